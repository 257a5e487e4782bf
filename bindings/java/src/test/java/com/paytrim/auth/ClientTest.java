package com.paytrim.auth;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class ClientTest {
    private final Emulator emu = Emulator.shared();

    @Test
    void sendsTheDocumentedRequestAndReturnsAToken() {
        String id = emu.newClient("s3cret-shape");
        try (PaytrimAuthClient c = emu.builder(id, "s3cret-shape").build()) {
            AccessToken t = c.getToken();
            assertFalse(t.getToken().isEmpty());
            assertEquals("Bearer", t.getTokenType());
            assertEquals("Bearer " + t.getToken(), t.toAuthorizationHeader());
            Instant now = Instant.now();
            assertTrue(t.getExpiresOn().isAfter(now.plusSeconds(3500)), t.toString());
            assertTrue(t.getExpiresOn().isBefore(now.plusSeconds(3700)), t.toString());
            assertFalse(t.toString().contains(t.getToken()), "toString hides the token");
            assertFalse(c.toString().contains("s3cret-shape"));
        }
        List<JsonObject> reqs = emu.requestsFor(id);
        assertEquals(1, reqs.size());
        JsonObject r = reqs.get(0);
        assertEquals("POST", r.get("method").getAsString());
        assertEquals("/contoso.onmicrosoft.com/oauth2/v2.0/token", r.get("path").getAsString());
        assertTrue(r.getAsJsonObject("headers").get("content-type").getAsString().startsWith("application/x-www-form-urlencoded"));
        JsonObject form = r.getAsJsonObject("form");
        assertEquals("client_credentials", form.get("grant_type").getAsString());
        assertEquals(id, form.get("client_id").getAsString());
        assertEquals("s3cret-shape", form.get("client_secret").getAsString());
        assertEquals("https://graph.microsoft.com/.default", form.get("scope").getAsString());
        assertEquals("client_secret_post", r.get("client_auth").getAsString());
        assertEquals(200, r.get("status").getAsInt());
    }

    @Test
    void clientSecretBasicAndScopes() {
        String id = emu.newClient("basic-secret");
        try (PaytrimAuthClient c = emu.builder(id, "basic-secret")
                .clientAuth(ClientAuthMethod.CLIENT_SECRET_BASIC)
                .scope("api://paytrim/.default")
                .build()) {
            c.getToken();
        }
        JsonObject r = emu.requestsFor(id).get(0);
        assertEquals("client_secret_basic", r.get("client_auth").getAsString());
        assertEquals("basic-secret", r.get("basic_client_secret").getAsString());
        assertFalse(r.getAsJsonObject("form").has("client_secret"));
        assertEquals("api://paytrim/.default", r.getAsJsonObject("form").get("scope").getAsString());
    }

    @Test
    void tokenUrlOverrideUsesThePlainOAuthEndpoint() {
        String id = emu.newClient("url-secret");
        try (PaytrimAuthClient c = PaytrimAuthClient.builder(id, "url-secret")
                .tokenUrl(emu.https + "/oauth2/token").caFile(emu.caFile).noProxy().build()) {
            assertFalse(c.getToken().getToken().isEmpty());
        }
        assertEquals("/oauth2/token", emu.requestsFor(id).get(0).get("path").getAsString());
    }

    @Test
    void repeatedCallsAreServedFromTheCache() {
        String id = emu.newClient("cache-secret");
        try (PaytrimAuthClient c = emu.builder(id, "cache-secret").build()) {
            assertNull(c.getCachedToken(), "nothing cached yet");
            String first = c.getToken().getToken();
            for (int i = 0; i < 100; i++) {
                assertEquals(first, c.getToken().getToken());
            }
            assertEquals(first, c.getCachedToken().getToken());
            // A second client with the same key shares the process-wide cache.
            try (PaytrimAuthClient c2 = emu.builder(id, "cache-secret").build()) {
                assertEquals(first, c2.getToken().getToken());
            }
        }
        assertEquals(1, emu.requestsFor(id).size());
    }

    @Test
    void tokenJsonMatchesTheDocumentedResponse() {
        String id = emu.newClient("json-secret");
        try (PaytrimAuthClient c = emu.builder(id, "json-secret").build()) {
            String json = c.getTokenJson();
            assertTrue(json.startsWith("{\"token_type\":\"Bearer\",\"expires_in\":"), json.substring(0, 40));
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            assertEquals("Bearer", o.get("token_type").getAsString());
            long expiresIn = o.get("expires_in").getAsLong();
            assertTrue(expiresIn > 3500 && expiresIn <= 3599, "expires_in " + expiresIn);
            assertEquals(c.getToken().getToken(), o.get("access_token").getAsString());
        }
        assertEquals(1, emu.requestsFor(id).size());
    }

    @Test
    void refreshTokenForcesANewRequest() {
        String id = emu.newClient("refresh-secret");
        try (PaytrimAuthClient c = emu.builder(id, "refresh-secret").build()) {
            String a = c.getToken().getToken();
            String b = c.refreshToken().getToken();
            assertNotEquals(a, b);
            assertEquals(b, c.getToken().getToken());
        }
        assertEquals(2, emu.requestsFor(id).size());
    }

    @Test
    void refreshTokenAsyncForcesANewRequestWithoutWaiting() throws Exception {
        String id = emu.newClient("refresh-async-secret");
        try (PaytrimAuthClient c = emu.builder(id, "refresh-async-secret").build()) {
            String a = c.getToken().getToken();
            emu.fault("{\"kind\":\"stall\",\"ms\":2000}");
            java.util.concurrent.CompletableFuture<AccessToken> f = c.refreshTokenAsync();
            // The answer is held back 2 s: a call that waited for it would return a done future.
            assertFalse(f.isDone(), "refreshTokenAsync waited for the fetch");
            String b = f.get(20, TimeUnit.SECONDS).getToken();
            assertNotEquals(a, b);
            assertEquals(b, c.getToken().getToken());
        } finally {
            emu.config("{\"latency_ms\":0}");
        }
        assertEquals(2, emu.requestsFor(id).size());
    }

    @Test
    void asyncMissCompletesAndAHitIsImmediate() throws Exception {
        String id = emu.newClient("async-secret");
        emu.fault("{\"kind\":\"stall\",\"ms\":2000}");
        try (PaytrimAuthClient c = emu.builder(id, "async-secret").build()) {
            java.util.concurrent.CompletableFuture<AccessToken> f = c.getTokenAsync();
            // The answer is held back 2 s: a call that waited for it would return a done future.
            assertFalse(f.isDone(), "getTokenAsync waited for the fetch");
            AccessToken t = f.get(20, TimeUnit.SECONDS);
            java.util.concurrent.CompletableFuture<AccessToken> hit = c.getTokenAsync();
            assertTrue(hit.isDone());
            assertEquals(t.getToken(), hit.get().getToken());
        } finally {
            emu.config("{\"latency_ms\":0}");
        }
        assertEquals(1, emu.requestsFor(id).size());
    }

    @Test
    void asyncOnTheLibraryThreadWithoutAnExecutor() throws Exception {
        String id = emu.newClient("async-direct");
        emu.config("{\"latency_ms\":300}");
        try (PaytrimAuthClient c = emu.builder(id, "async-direct").asyncExecutor(null).build()) {
            final String[] threadName = new String[1];
            AccessToken t = c.getTokenAsync().thenApply(x -> {
                threadName[0] = Thread.currentThread().getName();
                return x;
            }).get(10, TimeUnit.SECONDS);
            assertFalse(t.getToken().isEmpty());
            // Completed on the library's fetch thread (attached to the JVM), not ours.
            assertNotEquals(Thread.currentThread().getName(), threadName[0]);
        } finally {
            emu.config("{\"latency_ms\":0}");
        }
    }

    @Test
    void everyConfigKeyIsAccepted() {
        String id = emu.newClient("all-keys");
        try (PaytrimAuthClient c = PaytrimAuthClient.builder(id, "all-keys")
                .tenant("contoso.onmicrosoft.com")
                .scope("https://graph.microsoft.com/.default")
                .authorityHost(emu.https)
                .clientAuth(ClientAuthMethod.CLIENT_SECRET_POST)
                .caFile(java.nio.file.Paths.get(emu.caFile))
                .connectTimeout(Duration.ofSeconds(2))
                .timeout(Duration.ofSeconds(5))
                .totalTimeout(Duration.ofSeconds(20))
                .maxAttempts(2)
                .refreshMargin(Duration.ofSeconds(60))
                .proxy("none")
                .build()) {
            assertFalse(c.getToken().getToken().isEmpty());
        }
        // token_url is covered above; proxy as a URL is accepted without being used here.
        PaytrimAuthClient.builder(id, "all-keys").proxy("http://127.0.0.1:3128").build().close();
    }

    @Test
    void versionIsReported() {
        assertTrue(PaytrimAuthClient.nativeVersion().matches("\\d+\\.\\d+\\.\\d+.*"));
        assertEquals(1, PaytrimAuthClient.ABI_VERSION);
    }

    static String basic(String id, String secret) {
        return Base64.getEncoder().encodeToString((id + ":" + secret).getBytes());
    }
}
