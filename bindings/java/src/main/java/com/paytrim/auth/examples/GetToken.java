package com.paytrim.auth.examples;

import com.paytrim.auth.PaytrimAuthClient;
import com.paytrim.auth.PaytrimAuthException;

/**
 * Prints the documented token JSON,
 * {@code {"token_type":"Bearer","expires_in":...,"access_token":"..."}}.
 * Reads PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET, PAYTRIM_TENANT_ID,
 * PAYTRIM_SCOPE, PAYTRIM_AUTHORITY_HOST, PAYTRIM_TOKEN_URL and PAYTRIM_CA_FILE
 * (unset or empty = the library default).
 *
 * <pre>java -cp paytrim-auth.jar com.paytrim.auth.examples.GetToken</pre>
 */
public final class GetToken {
    private GetToken() {
    }

    public static void main(String[] args) {
        String id = env("PAYTRIM_CLIENT_ID");
        String secret = env("PAYTRIM_CLIENT_SECRET");
        if (id == null || secret == null) {
            System.err.println("set PAYTRIM_CLIENT_ID and PAYTRIM_CLIENT_SECRET");
            System.exit(2);
        }
        PaytrimAuthClient.Builder b = PaytrimAuthClient.builder(id, secret);
        if (env("PAYTRIM_TENANT_ID") != null) {
            b.tenant(env("PAYTRIM_TENANT_ID"));
        }
        if (env("PAYTRIM_SCOPE") != null) {
            b.scope(env("PAYTRIM_SCOPE").trim().split("\\s+"));
        }
        if (env("PAYTRIM_AUTHORITY_HOST") != null) {
            b.authorityHost(env("PAYTRIM_AUTHORITY_HOST"));
        }
        if (env("PAYTRIM_TOKEN_URL") != null) {
            b.tokenUrl(env("PAYTRIM_TOKEN_URL"));
        }
        if (env("PAYTRIM_CA_FILE") != null) {
            b.caFile(env("PAYTRIM_CA_FILE"));
        }
        try (PaytrimAuthClient client = b.build()) {
            System.out.println(client.getTokenJson());
        } catch (PaytrimAuthException e) {
            System.err.println("error: " + e);
            System.exit(1);
        }
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null || v.trim().isEmpty() ? null : v;
    }
}
