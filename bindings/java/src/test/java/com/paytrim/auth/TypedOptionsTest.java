package com.paytrim.auth;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Builder's typed options reach the library with the right key and unit: each is set
 * through its typed method and its effect is measured (a wrong unit, say seconds passed
 * as milliseconds, fails the test). Also the statuses the README lists as retried (408,
 * 504) and a 429 without Retry-After. Own emulator: these tests change its knobs.
 */
class TypedOptionsTest {
    private static Emulator emu;

    @BeforeAll
    static void start() {
        emu = Emulator.start();
    }

    @AfterAll
    static void stop() {
        emu.stop();
    }

    @AfterEach
    void reset() {
        emu.reset();
    }

    private static long millisSince(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    @Test
    void connectTimeoutBoundsAStalledTlsHandshake() throws Exception {
        try (LoopbackServers.Silent silent = new LoopbackServers.Silent();
             PaytrimAuthClient c = PaytrimAuthClient.builder("connect-id", "connect-secret")
                     .tokenUrl("https://127.0.0.1:" + silent.port() + "/oauth2/v2.0/token")
                     .noProxy()
                     .connectTimeout(Duration.ofMillis(700))
                     .timeout(Duration.ofSeconds(20))
                     .totalTimeout(Duration.ofSeconds(30))
                     .maxAttempts(1)
                     .build()) {
            long t0 = System.nanoTime();
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            long took = millisSince(t0);
            assertEquals(PaytrimAuthErrorCode.NETWORK, e.getCode(), e.getMessage());
            assertTrue(e.getMessage().contains("connect") && e.getMessage().contains("700 ms"), e.getMessage());
            assertEquals(1, silent.held.size(), "one attempt reached TCP");
            // 700 ms, not 0.7 ms and not 700 s (the attempt timeout, 20 s, would end that one).
            assertTrue(took >= 600, "ended before the connect timeout: " + took + " ms");
            assertTrue(took < 700 + 8_000, "took " + took + " ms");
        }
    }

    @Test
    void totalTimeoutBoundsAFetchWhoseAttemptsStall() {
        String id = emu.newClient("total-secret");
        emu.fault("{\"kind\":\"stall\",\"ms\":25000,\"count\":10}");
        try (PaytrimAuthClient c = emu.builder(id, "total-secret")
                .timeout(Duration.ofSeconds(20))
                .totalTimeout(Duration.ofMillis(1200))
                .maxAttempts(4)
                .build()) {
            long t0 = System.nanoTime();
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            long took = millisSince(t0);
            assertEquals(PaytrimAuthErrorCode.NETWORK, e.getCode(), e.getMessage());
            assertTrue(took >= 1_000, "ended before the budget: " + took + " ms");
            // Not 1200 s: one attempt alone would then run its whole 20 s.
            assertTrue(took < 1_200 + 8_000, "took " + took + " ms");
        }
    }

    @Test
    void refreshMarginStartsTheBackgroundRefreshThatLongBeforeExpiry() throws Exception {
        // Tokens live 8 s, so the margin is capped at 4 s. With refreshMargin(2 s) a call
        // 3 s before expiry is served from the cache without a request, and a call 1 s
        // before expiry starts a background refresh. A margin sent as milliseconds (capped
        // to 4 s) refreshes at the first call; one rounded to 0 never refreshes early.
        emu.config("{\"expires_in\":8}");
        String id = emu.newClient("margin-secret");
        try (PaytrimAuthClient c = emu.builder(id, "margin-secret").refreshMargin(Duration.ofSeconds(2)).build()) {
            AccessToken first = c.getToken();
            Instant expires = first.getExpiresOn();
            sleepUntil(expires.minusMillis(3_000));
            assertEquals(first.getToken(), c.getToken().getToken(), "served from the cache");
            sleepUntil(expires.minusMillis(1_200));
            assertEquals(1, emu.requestsFor(id).size(), "no refresh 3 s before expiry with a 2 s margin");
            assertEquals(first.getToken(), c.getToken().getToken(), "the refresh runs in the background");
            awaitRequests(id, 2);
            assertEquals(200, emu.requestsFor(id).get(1).get("status").getAsInt());
        }
    }

    private static void sleepUntil(Instant when) throws InterruptedException {
        long ms = Duration.between(Instant.now(), when).toMillis();
        assertTrue(ms > 0, "the test fell behind its own schedule by " + -ms + " ms");
        Thread.sleep(ms);
    }

    /** Waits (bounded) until the emulator has recorded {@code n} requests for {@code id}. */
    private static void awaitRequests(String id, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (emu.requestsFor(id).size() < n && System.nanoTime() < deadline) {
            Thread.sleep(25);
        }
        assertEquals(n, emu.requestsFor(id).size());
    }

    @Test
    void proxyTunnelsThroughTheGivenProxy() throws Exception {
        String id = emu.newClient("proxy-secret");
        try (LoopbackServers.RecordingProxy proxy = new LoopbackServers.RecordingProxy();
             PaytrimAuthClient c = emu.builder(id, "proxy-secret").proxy(proxy.url()).build()) {
            assertFalse(c.getToken().getToken().isEmpty());
            String hostPort = emu.https.substring("https://".length());
            assertEquals(1, proxy.requestLines.size(), proxy.requestLines.toString());
            assertTrue(proxy.requestLines.get(0).startsWith("CONNECT " + hostPort + " "), proxy.requestLines.toString());
        }
        assertEquals(1, emu.requestsFor(id).size());
    }

    @Test
    void noProxyIgnoresAnEarlierProxy() throws Exception {
        String id = emu.newClient("noproxy-secret");
        try (LoopbackServers.RecordingProxy proxy = new LoopbackServers.RecordingProxy();
             PaytrimAuthClient c = emu.builder(id, "noproxy-secret").proxy(proxy.url()).noProxy().build()) {
            assertFalse(c.getToken().getToken().isEmpty());
            assertEquals(0, proxy.requestLines.size(), proxy.requestLines.toString());
        }
    }

    @Test
    void anUnresolvableHostIsANetworkErrorNamingIt() {
        // `.invalid` never resolves (RFC 6761). noProxy(): the suite runs with every proxy
        // variable naming a dead proxy, which would otherwise be the error.
        try (PaytrimAuthClient c = PaytrimAuthClient.builder("dns-id", "dns-secret")
                .authorityHost("https://nonexistent.invalid")
                .tenant("contoso.onmicrosoft.com")
                .noProxy()
                .connectTimeout(Duration.ofSeconds(3))
                .maxAttempts(1)
                .build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertEquals(PaytrimAuthErrorCode.NETWORK, e.getCode(), e.getMessage());
            assertTrue(e.getMessage().startsWith("network: "), e.getMessage());
            assertTrue(e.getMessage().contains("nonexistent.invalid"), e.getMessage());
            assertTrue(e.isRetryable(), e.getMessage());
        }
        assertEquals(0, emu.tokenRequests());
    }

    /**
     * ALL_PROXY alone (no HTTPS_PROXY/https_proxy) carries the token request. In a child JVM
     * whose only proxy variable is ALL_PROXY, so the suite's own environment (a dead proxy in
     * every variable) does not matter. Clients never send a loopback host through an
     * environment proxy, so the child asks for the emulator under a name that does not
     * resolve (its certificate names it: --dns-name) and the proxy tunnels that name to
     * 127.0.0.1.
     */
    @Test
    void allProxyAloneCarriesTheTokenRequest() throws Exception {
        String name = "login.all-proxy.invalid";
        Emulator named = Emulator.start("--dns-name", name);
        try (LoopbackServers.RecordingProxy proxy = new LoopbackServers.RecordingProxy("127.0.0.1")) {
            String id = named.newClient("all-proxy-secret");
            String port = named.https.substring(named.https.lastIndexOf(':') + 1);
            ChildJvm.Result r = ChildJvm.run(EnvironmentMain.class,
                    "PAYTRIM_CLIENT_ID", id,
                    "PAYTRIM_CLIENT_SECRET", "all-proxy-secret",
                    "PAYTRIM_TENANT_ID", "contoso.onmicrosoft.com",
                    "PAYTRIM_AUTHORITY_HOST", "https://" + name + ":" + port,
                    "PAYTRIM_CA_FILE", named.caFile,
                    "ALL_PROXY", proxy.url());
            assertEquals(0, r.status, r.output);
            assertTrue(r.output.contains("token-length="), r.output);
            assertEquals(1, proxy.requestLines.size(), proxy.requestLines.toString());
            assertTrue(proxy.requestLines.get(0).startsWith("CONNECT " + name + ":" + port + " "),
                    proxy.requestLines.toString());
            assertEquals(1, named.requestsFor(id).size());
        } finally {
            named.stop();
        }
    }

    private void assertRetriedOnce(int status) {
        String id = emu.newClient("retry-" + status);
        emu.fault("{\"kind\":\"status\",\"status\":" + status + "}");
        try (PaytrimAuthClient c = emu.builder(id, "retry-" + status).maxAttempts(2).build()) {
            assertFalse(c.getToken().getToken().isEmpty());
        }
        List<JsonObject> reqs = emu.requestsFor(id);
        assertEquals(2, reqs.size());
        assertEquals(status, reqs.get(0).get("status").getAsInt());
        assertEquals(200, reqs.get(1).get("status").getAsInt());
    }

    @Test
    void status408IsRetried() {
        assertRetriedOnce(408);
    }

    @Test
    void status504IsRetried() {
        assertRetriedOnce(504);
    }

    @Test
    void status429WithoutRetryAfterIsRetried() {
        assertRetriedOnce(429);
    }

    @Test
    void status429WithoutRetryAfterEndingAFetchThrottlesTheKeyForTheDefaultDelay() {
        String id = emu.newClient("throttle-default");
        emu.fault("{\"kind\":\"status\",\"status\":429}");
        try (PaytrimAuthClient c = emu.builder(id, "throttle-default").maxAttempts(1).build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertEquals(PaytrimAuthErrorCode.THROTTLED, e.getCode());
            assertEquals(429, e.getHttpStatus());
            assertTrue(e.isRetryable());
            assertEquals(Duration.ofSeconds(5), e.getRetryAfter(), "the default throttle");
            PaytrimAuthException again = assertThrows(PaytrimAuthException.class, c::getToken);
            assertEquals(PaytrimAuthErrorCode.THROTTLED, again.getCode());
            assertEquals(0, again.getHttpStatus(), "no request: this error is the remembered throttle");
            Duration left = again.getRetryAfter();
            assertTrue(left.compareTo(Duration.ZERO) > 0 && left.compareTo(Duration.ofSeconds(5)) <= 0, String.valueOf(left));
        }
        assertEquals(1, emu.requestsFor(id).size());
    }

    @Test
    void eachFailingCallReportsItsOwnDetails() {
        // A wrapper that kept the previous call's error fields would show the 429's status,
        // Retry-After or ids on the later, different failures.
        String a = emu.newClient("details-a");
        String b = emu.newClient("details-b");
        emu.fault("{\"kind\":\"status\",\"status\":429,\"retry_after\":\"7\"}");
        try (PaytrimAuthClient throttled = emu.builder(a, "details-a").maxAttempts(1).build();
             PaytrimAuthClient rejected = emu.builder(b, "wrong-secret").maxAttempts(1).build()) {
            PaytrimAuthException first = assertThrows(PaytrimAuthException.class, throttled::getToken);
            assertEquals(PaytrimAuthErrorCode.THROTTLED, first.getCode());
            assertEquals(429, first.getHttpStatus());
            assertEquals(Duration.ofSeconds(7), first.getRetryAfter());
            assertNotNull(first.getTraceId());

            PaytrimAuthException second = assertThrows(PaytrimAuthException.class, rejected::getToken);
            assertEquals(PaytrimAuthErrorCode.CREDENTIAL_REJECTED, second.getCode(), second.getMessage());
            assertEquals(401, second.getHttpStatus());
            assertNull(second.getRetryAfter());
            assertFalse(second.isRetryable());
            assertArrayEquals(new int[] {7000215}, second.getAadstsCodes());
            assertNotEquals(first.getTraceId(), second.getTraceId());

            PaytrimAuthException third = assertThrows(PaytrimAuthException.class, throttled::getToken);
            assertEquals(PaytrimAuthErrorCode.THROTTLED, third.getCode(), "the remembered throttle");
            assertEquals(0, third.getHttpStatus(), "no answer behind this one");
            assertArrayEquals(new int[0], third.getAadstsCodes());
            assertNull(third.getTraceId());
            assertNull(third.getOAuthError());
        }
        assertEquals(1, emu.requestsFor(a).size());
        assertEquals(1, emu.requestsFor(b).size());
    }
}
