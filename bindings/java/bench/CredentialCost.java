package com.paytrim.auth;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.UUID;

/**
 * Cold fetch and cache hit per credential kind, through the Java wrapper, against the emulator
 * (bench/credential-cost.sh runs it). Cold: 20 fresh keys (a new scope each), median and p90 of
 * the first getToken(); hit: 2,000,000 getToken() after 200,000 of warm-up. The assertion
 * provider is TestCerts.signAssertion (it re-reads the PEM files and signs RS256 in Java), so its
 * cold figure includes that signer.
 */
public final class CredentialCost {
    interface Maker { PaytrimAuthClient make(String scope) throws Exception; }

    static void measure(String name, Maker m) throws Exception {
        int coldRuns = 20;
        long[] cold = new long[coldRuns];
        PaytrimAuthClient last = null;
        for (int i = 0; i < coldRuns; i++) {
            PaytrimAuthClient c = m.make("api://m-" + UUID.randomUUID() + "/.default");
            long t0 = System.nanoTime();
            c.getToken();
            cold[i] = System.nanoTime() - t0;
            if (last != null) last.close();
            last = c;
        }
        java.util.Arrays.sort(cold);
        for (int i = 0; i < 200_000; i++) last.getToken();
        int n = 2_000_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) last.getToken();
        double hit = (System.nanoTime() - t0) / (double) n;
        last.close();
        System.out.printf("%-22s cold fetch median %6.2f ms (p90 %6.2f ms, n=%d)   cache hit %6.1f ns%n", name,
                cold[coldRuns / 2] / 1e6, cold[coldRuns * 9 / 10] / 1e6, coldRuns, hit);
    }

    public static void main(String[] a) throws Exception {
        Emulator emu = Emulator.start();
        TestCerts certs = TestCerts.generate();
        String secretId = emu.newClient("measure-secret");
        measure("client secret", s -> emu.builder(secretId, "measure-secret").scope(s).build());
        String certId = emu.newCertificateClient(certs.text(certs.certPem));
        measure("certificate (PS256)", s -> emu.builder(certId).certificate(certs.pfx, TestCerts.PASSWORD.toCharArray()).scope(s).build());
        measure("assertion provider", s -> emu.builder(certId).assertion(certs::signAssertion).scope(s).build());
        String iss = "https://oidc.example/m";
        String fedId = emu.newFederatedClient(iss, "sub");
        long now = System.currentTimeMillis() / 1000;
        Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
        String jwt = b.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "." + b.encodeToString(("{\"iss\":\"" + iss
                + "\",\"sub\":\"sub\",\"aud\":\"api://AzureADTokenExchange\",\"iat\":" + now + ",\"nbf\":" + now + ",\"exp\":" + (now + 7200) + "}")
                .getBytes(StandardCharsets.UTF_8)) + "." + b.encodeToString(new byte[] {1});
        Path f = Files.createTempFile("m", ".jwt");
        Files.write(f, jwt.getBytes(StandardCharsets.UTF_8));
        measure("federated token file", s -> emu.builder(fedId).federatedTokenFile(f).scope(s).build());
        measure("managed identity IMDS", s -> PaytrimAuthClient.builder(ManagedIdentity.systemAssigned()).imdsEndpoint(emu.imdsEndpoint).scope(s).build());
        Files.delete(f);
        emu.stop();
    }
}
