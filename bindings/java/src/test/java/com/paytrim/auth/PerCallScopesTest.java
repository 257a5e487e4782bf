package com.paytrim.auth;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Per-call scopes: one client, several scope sets, each with its own cache entry. */
class PerCallScopesTest {
    private static final Emulator emu = Emulator.shared();

    private static String aud(AccessToken t) {
        String payload = new String(Base64.getUrlDecoder().decode(t.getToken().split("\\.")[1]), StandardCharsets.UTF_8);
        return JsonParser.parseString(payload).getAsJsonObject().get("aud").getAsString();
    }

    private static List<String> scopesSent(String clientId) {
        List<String> out = new ArrayList<>();
        for (JsonObject r : emu.requestsFor(clientId)) {
            out.add(r.getAsJsonObject("form").get("scope").getAsString());
        }
        return out;
    }

    @Test
    void eachScopeSetHasItsOwnTokenAndTheConfiguredScopeStaysTheDefault() {
        String id = emu.newClient("scopes-secret");
        try (PaytrimAuthClient c = emu.builder(id, "scopes-secret").scope("api://default/.default").build()) {
            AccessToken d = c.getToken();
            AccessToken orders = c.getTokenForScopes("api://orders/.default");
            AccessToken billing = c.getTokenForScopes(Arrays.asList("api://billing/.default"));
            assertEquals("api://default", aud(d));
            assertEquals("api://orders", aud(orders));
            assertEquals("api://billing", aud(billing));
            for (int i = 0; i < 50; i++) {
                assertEquals(d.getToken(), c.getToken().getToken());
                assertEquals(orders.getToken(), c.getTokenForScopes("api://orders/.default").getToken());
                assertEquals(d.getToken(), c.getTokenForScopes("api://default/.default").getToken(), "configured = default");
            }
            assertEquals(billing.getToken(), c.getCachedTokenForScopes("api://billing/.default").getToken());
            assertNull(c.getCachedTokenForScopes("api://never/.default"));
            AccessToken fresh = c.refreshTokenForScopes("api://orders/.default");
            assertNotEquals(orders.getToken(), fresh.getToken());
            assertEquals(d.getToken(), c.getToken().getToken(), "the default entry kept its token");
        }
        assertEquals(Arrays.asList("api://default/.default", "api://orders/.default", "api://billing/.default",
                "api://orders/.default"), scopesSent(id));
    }

    @Test
    void asyncCallsPerScopeSetShareOneRequest() throws Exception {
        String id = emu.newClient("scopes-async");
        try (PaytrimAuthClient c = emu.builder(id, "scopes-async").build()) {
            String scope = "api://async-" + UUID.randomUUID() + "/.default";
            List<CompletableFuture<AccessToken>> fs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                fs.add(c.getTokenForScopesAsync(scope));
            }
            Set<String> tokens = new HashSet<>();
            for (CompletableFuture<AccessToken> f : fs) {
                tokens.add(f.get(30, TimeUnit.SECONDS).getToken());
            }
            assertEquals(1, tokens.size());
            assertEquals(1, emu.requestsFor(id).size(), "one request for 16 async callers");
            assertTrue(c.getTokenForScopesAsync(scope).isDone(), "a hit completes at once");
            AccessToken fresh = c.refreshTokenForScopesAsync(scope).get(30, TimeUnit.SECONDS);
            assertFalse(tokens.contains(fresh.getToken()));
            assertEquals(2, emu.requestsFor(id).size());
        }
    }

    @Test
    void concurrentThreadsOnSeveralScopeSetsSendOneRequestPerSet() throws Exception {
        String id = emu.newClient("scopes-threads");
        try (PaytrimAuthClient c = emu.builder(id, "scopes-threads").build()) {
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            String[] results = new String[24];
            for (int i = 0; i < 24; i++) {
                final int n = i;
                Thread t = new Thread(() -> {
                    try {
                        start.await();
                        results[n] = aud(c.getTokenForScopes("api://set" + (n % 3) + "/.default"));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                t.start();
                threads.add(t);
            }
            start.countDown();
            for (Thread t : threads) {
                t.join(30_000);
            }
            for (int i = 0; i < 24; i++) {
                assertEquals("api://set" + (i % 3), results[i]);
            }
            assertEquals(3, emu.requestsFor(id).size(), "one request per scope set");
        }
    }

    @Test
    void badScopesAreRefusedClearly() {
        String id = emu.newClient("scopes-bad");
        try (PaytrimAuthClient c = emu.builder(id, "scopes-bad").build()) {
            Object[][] cases = {
                {new String[0], "empty"},
                {null, "scopes is null"},
                {new String[] {"api://a/.default", null}, "scope 1 is null"},
                {new String[] {""}, "scope 0 is empty"},
                {new String[] {"api://a/.default api://b/.default"}, "whitespace"},
                {new String[] {"api://a/\u0001.default"}, "control"},
            };
            for (Object[] k : cases) {
                String[] scopes = (String[]) k[0];
                PaytrimAuthException e = assertThrows(PaytrimAuthException.class, () -> c.getTokenForScopes(scopes));
                assertEquals(PaytrimAuthErrorCode.INVALID_ARGUMENT, e.getCode());
                assertTrue(e.getMessage().contains((String) k[1]), e.getMessage());
                ExecutionException ae = assertThrows(ExecutionException.class,
                        () -> c.getTokenForScopesAsync(scopes).get(5, TimeUnit.SECONDS));
                assertTrue(ae.getCause() instanceof PaytrimAuthException, String.valueOf(ae.getCause()));
                assertThrows(PaytrimAuthException.class, () -> c.refreshTokenForScopes(scopes));
            }
            PaytrimAuthException server = assertThrows(PaytrimAuthException.class, () -> c.getTokenForScopes("api://no-suffix"));
            assertEquals("invalid_scope", server.getOAuthError());
            assertEquals(0, emu.requestsFor(id).stream().filter(r -> r.get("status").getAsInt() == 200).count());
            c.getToken();
        }
        PaytrimAuthClient closed = emu.builder(id, "scopes-bad").build();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.getTokenForScopes("api://x/.default"));
    }

    @Test
    void managedIdentityTakesItsResourcePerCall() {
        String r1 = "api://mi-" + UUID.randomUUID();
        String r2 = "api://mi-" + UUID.randomUUID();
        try (PaytrimAuthClient c = PaytrimAuthClient.builder(ManagedIdentity.systemAssigned())
                .imdsEndpoint(emu.imdsEndpoint).scope(r1 + "/.default").build()) {
            assertEquals(r1, aud(c.getToken()));
            assertEquals(r2, aud(c.getTokenForScopes(r2 + "/.default")));
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class,
                    () -> c.getTokenForScopes(r1 + "/.default", r2 + "/.default"));
            assertTrue(e.getMessage().contains("exactly one resource"), e.getMessage());
        }
    }
}
