package com.paytrim.auth;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** Every credential kind from Java, end to end against the emulator. */
class CredentialsTest {
    private static final Emulator emu = Emulator.shared();
    private static TestCerts certs;

    @BeforeAll
    static void makeCertificate() {
        certs = TestCerts.generate();
    }

    private static JsonObject decode(String jwt, int part) {
        String s = new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[part]), StandardCharsets.UTF_8);
        return JsonParser.parseString(s).getAsJsonObject();
    }

    private static List<String> assertionsFor(String clientId) {
        List<String> out = new ArrayList<>();
        for (JsonObject r : emu.requestsFor(clientId)) {
            JsonObject form = r.getAsJsonObject("form");
            if (form.has("client_assertion")) {
                out.add(form.get("client_assertion").getAsString());
            }
        }
        return out;
    }

    @Test
    void pkcs12CertificateWithPasswordSignsAFreshPs256AssertionPerRequest() {
        String id = emu.newCertificateClient(certs.text(certs.certPem));
        char[] password = TestCerts.PASSWORD.toCharArray();
        PaytrimAuthClient.Builder b = emu.builder(id).certificate(certs.pfx, password);
        assertArrayEquals(TestCerts.PASSWORD.toCharArray(), password, "the caller's array is not touched");
        assertFalse(b.toString().contains(TestCerts.PASSWORD));
        try (PaytrimAuthClient c = b.build()) {
            String t1 = c.getToken().getToken();
            assertEquals(t1, c.getToken().getToken(), "a cache hit signs nothing and sends nothing");
            String t2 = c.refreshToken().getToken();
            assertNotEquals(t1, t2);
        }
        List<String> sent = assertionsFor(id);
        assertEquals(2, sent.size());
        JsonObject form = emu.requestsFor(id).get(0).getAsJsonObject("form");
        assertEquals("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", form.get("client_assertion_type").getAsString());
        assertFalse(form.has("client_secret"));
        JsonObject h = decode(sent.get(0), 0);
        JsonObject claims = decode(sent.get(0), 1);
        assertEquals("PS256", h.get("alg").getAsString());
        assertTrue(h.has("x5t#S256"));
        assertFalse(h.has("x5c"));
        assertEquals(id, claims.get("iss").getAsString());
        assertEquals(emu.https + "/contoso.onmicrosoft.com/oauth2/v2.0/token", claims.get("aud").getAsString());
        assertNotEquals(claims.get("jti"), decode(sent.get(1), 1).get("jti"), "a new jti per request");
    }

    @Test
    void pemTextAndEncryptedPemWithRs256AndTheChain() throws Exception {
        String id = emu.newCertificateClient(certs.text(certs.certPem));
        try (PaytrimAuthClient c = emu.builder(id)
                .certificatePem(certs.text(certs.certPem), certs.text(certs.keyPem), null)
                .signingAlgorithm(SigningAlgorithm.RS256)
                .sendCertificateChain(true)
                .build()) {
            c.getToken();
        }
        JsonObject h = decode(assertionsFor(id).get(0), 0);
        assertEquals("RS256", h.get("alg").getAsString());
        assertTrue(h.has("x5t") && h.has("x5t#S256"));
        assertEquals(1, h.getAsJsonArray("x5c").size());

        String id2 = emu.newCertificateClient(certs.text(certs.certPem));
        try (PaytrimAuthClient c = emu.builder(id2).certificate(certs.encryptedPem, TestCerts.PASSWORD.toCharArray())
                .build()) {
            assertFalse(c.getToken().getToken().isEmpty());
        }
    }

    @Test
    void badCertificateInputsAreClearErrorsNamingTheFile() throws Exception {
        String id = UUID.randomUUID().toString();
        PaytrimAuthException e = assertThrows(PaytrimAuthException.class,
                () -> emu.builder(id).certificate(certs.pfx, "wrong-pw".toCharArray()).build());
        assertEquals(PaytrimAuthErrorCode.INVALID_ARGUMENT, e.getCode());
        assertTrue(e.getMessage().contains(certs.pfx.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("wrong-pw"), e.getMessage());
        Path missing = certs.dir.resolve("missing.pem");
        e = assertThrows(PaytrimAuthException.class, () -> emu.builder(id).certificate(missing).build());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        e = assertThrows(PaytrimAuthException.class,
                () -> emu.builder(id).certificate(certs.combinedPem).option("signing_algorithm", "x").build());
        assertTrue(e.getMessage().contains("signing_algorithm"), e.getMessage());
        // Wrong use of the builder fails before anything native.
        assertThrows(IllegalStateException.class, () -> PaytrimAuthClient.builder(id).build());
        assertThrows(IllegalStateException.class,
                () -> PaytrimAuthClient.builder(id).clientSecret("s").certificate(certs.pfx));
        assertThrows(IllegalStateException.class,
                () -> PaytrimAuthClient.builder(ManagedIdentity.systemAssigned()).clientSecret("s"));
        // A certificate the server does not know: Entra's answer, as a PaytrimAuthException.
        try (PaytrimAuthClient c = emu.builder(id).certificate(certs.combinedPem).build()) {
            e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertEquals(PaytrimAuthErrorCode.CREDENTIAL_REJECTED, e.getCode(), e.getMessage());
        }
    }

    @Test
    void assertionProviderSignsWithJavaCryptoOnALibraryThread() throws Exception {
        String id = emu.newCertificateClient(certs.text(certs.certPem));
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<Thread> thread = new AtomicReference<>();
        AtomicReference<AssertionRequest> asked = new AtomicReference<>();
        try (PaytrimAuthClient c = emu.builder(id).assertion(r -> {
            calls.incrementAndGet();
            thread.set(Thread.currentThread());
            asked.set(r);
            return certs.signAssertion(r);
        }).build()) {
            String t = c.getToken().getToken();
            assertEquals(t, c.getToken().getToken());
            assertEquals(1, calls.get(), "a cache hit does not ask the provider");
            c.refreshToken();
            assertEquals(2, calls.get(), "each request gets a fresh assertion");
        }
        assertNotSame(Thread.currentThread(), thread.get(), "asked on a library thread");
        assertTrue(thread.get().isDaemon(), "the library thread is attached as a daemon");
        assertEquals(id, asked.get().getClientId());
        assertEquals(emu.https + "/contoso.onmicrosoft.com/oauth2/v2.0/token", asked.get().getAudience());
        assertEquals("RS256", decode(assertionsFor(id).get(0), 0).get("alg").getAsString());
    }

    @Test
    void asyncProviderAnswersLaterFromAnotherThread() throws Exception {
        String id = emu.newCertificateClient(certs.text(certs.certPem));
        ExecutorService signer = Executors.newSingleThreadExecutor();
        try (PaytrimAuthClient c = emu.builder(id).assertionAsync(r -> CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(50);
                return certs.signAssertion(r);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, signer)).build()) {
            assertFalse(c.getTokenAsync().get(30, TimeUnit.SECONDS).getToken().isEmpty());
        } finally {
            signer.shutdown();
        }
        assertEquals(1, assertionsFor(id).size());
    }

    @Test
    void aSlowProviderIsAskedOnceForManyWaitersAndBlocksNobodyElse() throws Exception {
        String id = emu.newCertificateClient(certs.text(certs.certPem));
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        String other = emu.newClient("other-secret");
        try (PaytrimAuthClient c = emu.builder(id).assertion(r -> {
            calls.incrementAndGet();
            asked.countDown();
            release.await(30, TimeUnit.SECONDS);
            return certs.signAssertion(r);
        }).build(); PaytrimAuthClient unrelated = emu.builder(other, "other-secret").build()) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<String>> waiters = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                waiters.add(pool.submit(() -> c.getToken().getToken()));
            }
            assertTrue(asked.await(30, TimeUnit.SECONDS));
            // While the provider blocks, another client still works.
            assertFalse(unrelated.getToken().getToken().isEmpty());
            release.countDown();
            String first = waiters.get(0).get(30, TimeUnit.SECONDS);
            for (Future<String> f : waiters) {
                assertEquals(first, f.get(30, TimeUnit.SECONDS));
            }
            pool.shutdown();
        }
        assertEquals(1, calls.get());
    }

    @Test
    void aThrowingOrSilentProviderIsAClearError() {
        String id = emu.newCertificateClient(certs.text(certs.certPem));
        try (PaytrimAuthClient c = emu.builder(id).assertion(r -> {
            throw new java.io.IOException("HSM offline");
        }).build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertEquals(PaytrimAuthErrorCode.INVALID_ARGUMENT, e.getCode());
            assertTrue(e.getMessage().contains("java.io.IOException: HSM offline"), e.getMessage());
        }
        try (PaytrimAuthClient c = emu.builder(id).assertionAsync(r -> {
            CompletableFuture<String> f = new CompletableFuture<>();
            f.completeExceptionally(new IllegalStateException("vault said no"));
            return f;
        }).build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertTrue(e.getMessage().contains("IllegalStateException: vault said no"), e.getMessage());
        }
        try (PaytrimAuthClient c = emu.builder(id).assertion(r -> null).build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertTrue(e.getMessage().contains("returned null"), e.getMessage());
        }
        try (PaytrimAuthClient c = emu.builder(id).assertion(r -> "not-a-jwt").build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertTrue(e.getMessage().contains("not a compact JWT"), e.getMessage());
            assertFalse(e.getMessage().contains("not-a-jwt"), e.getMessage());
        }
        // A provider that never answers: the fetch fails when its budget ends, not never.
        long started = System.nanoTime();
        try (PaytrimAuthClient c = emu.builder(id).totalTimeout(Duration.ofMillis(800))
                .assertionAsync(r -> new CompletableFuture<String>()).build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertTrue(e.getMessage().contains("no answer within"), e.getMessage());
        }
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(20));
    }

    @Test
    void federatedTokenFileIsSentAsTheAssertion() throws Exception {
        String iss = "https://oidc.example/" + UUID.randomUUID();
        String sub = "system:serviceaccount:payments:api";
        String id = emu.newFederatedClient(iss, sub);
        Path file = Files.createTempFile("paytrim-federated-", ".jwt");
        try {
            long now = System.currentTimeMillis() / 1000;
            Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
            String jwt = b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                    + b64.encodeToString(("{\"iss\":\"" + iss + "\",\"sub\":\"" + sub
                    + "\",\"aud\":\"api://AzureADTokenExchange\",\"iat\":" + now + ",\"nbf\":" + now + ",\"exp\":"
                    + (now + 3600) + "}").getBytes(StandardCharsets.UTF_8)) + "." + b64.encodeToString(new byte[] {1, 2});
            Files.write(file, jwt.getBytes(StandardCharsets.UTF_8));
            try (PaytrimAuthClient c = emu.builder(id).federatedTokenFile(file).build()) {
                assertFalse(c.getToken().getToken().isEmpty());
            }
            assertEquals(jwt, assertionsFor(id).get(0));
            Files.write(file, new byte[0]);
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class,
                    () -> emu.builder(id).federatedTokenFile(file).build());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static List<JsonObject> managedIdentityRequests(String pathPart, String resource) {
        List<JsonObject> out = new ArrayList<>();
        for (JsonObject r : emu.requests()) {
            JsonObject q = r.getAsJsonObject("query");
            if (r.get("path").getAsString().toLowerCase().contains(pathPart) && q != null && q.has("resource")
                    && q.get("resource").getAsString().equals(resource)) {
                out.add(r);
            }
        }
        return out;
    }

    @Test
    void managedIdentityThroughImdsAndAppService() {
        String resource = "api://paytrim-" + UUID.randomUUID();
        try (PaytrimAuthClient c = PaytrimAuthClient.builder(ManagedIdentity.systemAssigned())
                .imdsEndpoint(emu.imdsEndpoint).scope(resource + "/.default").build()) {
            String t = c.getToken().getToken();
            assertEquals(t, c.getToken().getToken());
            JsonObject aud = decode(t, 1);
            assertEquals(resource, aud.get("aud").getAsString());
            assertTrue(c.toString().contains("managed identity system"), c.toString());
        }
        List<JsonObject> imds = managedIdentityRequests("/metadata/identity/oauth2/token", resource);
        assertEquals(1, imds.size(), "one request, then the cache");
        assertEquals("true", imds.get(0).getAsJsonObject("headers").get("metadata").getAsString());

        // A user-assigned identity on App Service.
        String uaClientId = UUID.randomUUID().toString();
        emu.post("/_emulator/managed_identity", "{\"user_assigned\":{\"client_id\":\"" + uaClientId + "\"}}");
        String resource2 = "api://paytrim-" + UUID.randomUUID();
        try (PaytrimAuthClient c = PaytrimAuthClient.builder(ManagedIdentity.clientId(uaClientId))
                .identityEndpoint(emu.identityEndpoint, emu.identityHeader).scope(resource2 + "/.default").build()) {
            assertEquals(uaClientId, decode(c.getToken().getToken(), 1).get("appid").getAsString());
        }
        List<JsonObject> app = managedIdentityRequests("/msi/token", resource2);
        assertEquals(1, app.size());
        assertEquals(uaClientId, app.get(0).getAsJsonObject("query").get("client_id").getAsString());

        // An identity the host does not have: the endpoint's answer, as a PaytrimAuthException.
        try (PaytrimAuthClient c = PaytrimAuthClient.builder(ManagedIdentity.objectId(UUID.randomUUID().toString()))
                .imdsEndpoint(emu.imdsEndpoint).scope(resource + "/.default").maxAttempts(1).build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertTrue(e.getMessage().toLowerCase().contains("identity"), e.getMessage());
        }
    }

    @Test
    void environmentFactoryPicksTheCredentialInAChildJvm() throws Exception {
        String id = emu.newCertificateClient(certs.text(certs.certPem));
        ChildJvm.Result ok = ChildJvm.run(EnvironmentMain.class,
                "PAYTRIM_CLIENT_ID", id,
                "PAYTRIM_TENANT_ID", "contoso.onmicrosoft.com",
                "PAYTRIM_AUTHORITY_HOST", emu.https,
                "PAYTRIM_CA_FILE", emu.caFile,
                "AZURE_CLIENT_CERTIFICATE_PATH", certs.pfx.toString(),
                "AZURE_CLIENT_CERTIFICATE_PASSWORD", TestCerts.PASSWORD);
        assertEquals(0, ok.status, ok.output);
        assertTrue(ok.output.contains("token-length="), ok.output);
        assertEquals(1, assertionsFor(id).size(), "the certificate from AZURE_* was used");

        ChildJvm.Result missing = ChildJvm.run(EnvironmentMain.class, "AZURE_CLIENT_SECRET", "s");
        assertEquals(2, missing.status, missing.output);
        assertTrue(missing.output.contains("INVALID_ARGUMENT"), missing.output);
        assertTrue(missing.output.contains("AZURE_CLIENT_ID"), missing.output);
        assertTrue(missing.output.contains("AZURE_TENANT_ID"), missing.output);

        ChildJvm.Result conflict = ChildJvm.run(EnvironmentMain.class, "AZURE_CLIENT_ID", id,
                "AZURE_TENANT_ID", "t", "AZURE_CLIENT_SECRET", "s", "AZURE_FEDERATED_TOKEN_FILE", "/x");
        assertEquals(2, conflict.status, conflict.output);
        assertTrue(conflict.output.contains("AZURE_CLIENT_SECRET and AZURE_FEDERATED_TOKEN_FILE"), conflict.output);
        assertFalse(conflict.output.contains("=s"), conflict.output);
    }
}
