package com.paytrim.auth;

import java.nio.file.Paths;

/** Run in a child JVM by CacheTierTest: one client with the on-host cache tier, one token. */
public final class CacheTierMain {
    public static void main(String[] args) {
        PaytrimAuthClient.Builder b = PaytrimAuthClient.builder(System.getenv("TIER_CLIENT_ID"), System.getenv("TIER_SECRET"))
                .authorityHost(System.getenv("TIER_AUTHORITY"))
                .caFile(System.getenv("TIER_CA_FILE"))
                .tenant("contoso.onmicrosoft.com")
                .noProxy();
        if (System.getenv("TIER_CACHE_DIR") != null) {
            b.cacheDir(Paths.get(System.getenv("TIER_CACHE_DIR")));
        }
        try (PaytrimAuthClient c = b.build()) {
            System.out.println("token-length=" + c.getToken().getToken().length());
        } catch (PaytrimAuthException e) {
            System.out.println(e.getCode() + ": " + e.getMessage());
            System.exit(2);
        }
    }
}
