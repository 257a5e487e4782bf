package com.paytrim.auth;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class ErrorsTest {
    private final Emulator emu = Emulator.shared();

    @AfterEach
    void resetFaults() {
        emu.reset();
    }

    private PaytrimAuthException fail(PaytrimAuthClient.Builder b) {
        try (PaytrimAuthClient c = b.build()) {
            return assertThrows(PaytrimAuthException.class, c::getToken);
        }
    }

    private static boolean contains(int[] codes, int code) {
        for (int c : codes) {
            if (c == code) {
                return true;
            }
        }
        return false;
    }

    @Test
    void wrongSecretIsCredentialRejectedWithEntraDetails() {
        String id = emu.newClient("right-secret");
        PaytrimAuthException e = fail(emu.builder(id, "wrong-secret-XYZ").maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.CREDENTIAL_REJECTED, e.getCode());
        assertEquals(401, e.getHttpStatus());
        assertEquals("invalid_client", e.getOAuthError());
        assertTrue(contains(e.getAadstsCodes(), 7000215), e.toString());
        assertNotNull(e.getOAuthErrorDescription());
        assertNotNull(e.getTraceId());
        assertNotNull(e.getCorrelationId());
        assertNotNull(e.getTimestamp());
        assertNotNull(e.getClientRequestId());
        assertFalse(e.isRetryable());
        assertNull(e.getRetryAfter());
        assertFalse(e.getMessage().contains("wrong-secret-XYZ"), "message never shows the secret");
        assertFalse(e.toString().contains("wrong-secret-XYZ"));
        assertEquals(1, emu.requestsFor(id).size(), "not retried");
    }

    @Test
    void unknownClientIsCredentialRejected() {
        PaytrimAuthException e = fail(emu.builder("22222222-0000-0000-0000-000000000000", "x").maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.CREDENTIAL_REJECTED, e.getCode());
        assertEquals("unauthorized_client", e.getOAuthError());
        assertTrue(contains(e.getAadstsCodes(), 700016), e.toString());
    }

    @Test
    void unknownTenant() {
        String id = emu.newClient("tenant-secret");
        PaytrimAuthException e = fail(emu.builder(id, "tenant-secret").tenant("unknown-tenant").maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.TENANT_NOT_FOUND, e.getCode());
        assertEquals(400, e.getHttpStatus());
        assertTrue(contains(e.getAadstsCodes(), 90002), e.toString());
    }

    @Test
    void throttledCarriesRetryAfterAndIsRemembered() {
        String id = emu.newClient("throttle-secret");
        emu.fault("{\"kind\":\"status\",\"status\":429,\"retry_after\":\"7\"}");
        try (PaytrimAuthClient c = emu.builder(id, "throttle-secret").maxAttempts(1).build()) {
            PaytrimAuthException e = assertThrows(PaytrimAuthException.class, c::getToken);
            assertEquals(PaytrimAuthErrorCode.THROTTLED, e.getCode());
            assertEquals(429, e.getHttpStatus());
            assertTrue(e.isRetryable());
            Duration after = e.getRetryAfter();
            assertNotNull(after);
            assertTrue(after.toMillis() > 5000 && after.toMillis() <= 7000, after.toString());
            // Within the throttle window no request is sent.
            PaytrimAuthException again = assertThrows(PaytrimAuthException.class, c::getToken);
            assertEquals(PaytrimAuthErrorCode.THROTTLED, again.getCode());
            assertNotNull(again.getRetryAfter());
        }
        assertEquals(1, emu.requestsFor(id).size());
    }

    @Test
    void connectionResetIsNetwork() {
        String id = emu.newClient("net-secret");
        emu.fault("{\"kind\":\"reset\"}");
        PaytrimAuthException e = fail(emu.builder(id, "net-secret").maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.NETWORK, e.getCode());
        assertEquals(0, e.getHttpStatus());
        assertTrue(e.isRetryable());
    }

    @Test
    void refusedConnectionIsNetwork() {
        PaytrimAuthException e = fail(PaytrimAuthClient.builder("id", "secret")
                .tokenUrl("http://127.0.0.1:1/oauth2/token").noProxy().maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.NETWORK, e.getCode());
    }

    @Test
    void wrongHostNameAndUntrustedCertificateAreTls() {
        String id = emu.newClient("tls-secret");
        String localhost = emu.https.replace("127.0.0.1", "localhost");
        PaytrimAuthException e = fail(emu.builder(id, "tls-secret").authorityHost(localhost).maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.TLS, e.getCode(), e.toString());
        PaytrimAuthException e2 = fail(PaytrimAuthClient.builder(id, "tls-secret")
                .authorityHost(emu.https).tenant("contoso.onmicrosoft.com").noProxy().maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.TLS, e2.getCode(), e2.toString());
        assertFalse(e2.isRetryable());
    }

    @Test
    void serverErrorIsServer() {
        String id = emu.newClient("server-secret");
        emu.fault("{\"kind\":\"status\",\"status\":500}");
        PaytrimAuthException e = fail(emu.builder(id, "server-secret").maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.SERVER, e.getCode());
        assertEquals(500, e.getHttpStatus());
        assertEquals("server_error", e.getOAuthError());
        assertTrue(e.isRetryable());
    }

    @Test
    void transientServerErrorIsRetriedTransparently() {
        String id = emu.newClient("retry-secret");
        emu.fault("{\"kind\":\"status\",\"status\":503,\"retry_after\":\"0\"}");
        try (PaytrimAuthClient c = emu.builder(id, "retry-secret").maxAttempts(3).build()) {
            assertFalse(c.getToken().getToken().isEmpty());
        }
        assertEquals(2, emu.requestsFor(id).size());
    }

    @Test
    void malformedAnswerIsProtocol() {
        String id = emu.newClient("proto-secret");
        emu.fault("{\"kind\":\"malformed_json\"}");
        PaytrimAuthException e = fail(emu.builder(id, "proto-secret").maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.PROTOCOL, e.getCode());
        assertEquals(200, e.getHttpStatus());
    }

    @Test
    void badScopeIsRequestRejected() {
        String id = emu.newClient("scope-secret");
        PaytrimAuthException e = fail(emu.builder(id, "scope-secret").scope("api://paytrim/read").maxAttempts(1));
        assertEquals(PaytrimAuthErrorCode.REQUEST_REJECTED, e.getCode());
        assertEquals(400, e.getHttpStatus());
        assertEquals("invalid_scope", e.getOAuthError());
    }

    @Test
    void badOptionsAreInvalidArgument() {
        PaytrimAuthException e = assertThrows(PaytrimAuthException.class,
                () -> PaytrimAuthClient.builder("id", "secret").option("no_such_key", "1").build());
        assertEquals(PaytrimAuthErrorCode.INVALID_ARGUMENT, e.getCode());
        assertTrue(e.getMessage().contains("no_such_key"), e.getMessage());
        PaytrimAuthException e2 = assertThrows(PaytrimAuthException.class,
                () -> PaytrimAuthClient.builder("id", "secret").maxAttempts(0).build());
        assertEquals(PaytrimAuthErrorCode.INVALID_ARGUMENT, e2.getCode());
        assertTrue(e2.getMessage().contains("max_attempts"), e2.getMessage());
        assertThrows(PaytrimAuthException.class,
                () -> PaytrimAuthClient.builder("id", "secret").tenant("bad tenant/").build());
        assertThrows(PaytrimAuthException.class,
                () -> PaytrimAuthClient.builder("id", "secret").authorityHost("not a url").build());
    }

    @Test
    void asyncFailureCompletesExceptionally() throws Exception {
        String id = emu.newClient("async-fail");
        emu.config("{\"latency_ms\":100}");
        try (PaytrimAuthClient c = emu.builder(id, "wrong").maxAttempts(1).build()) {
            CompletableFuture<AccessToken> f = c.getTokenAsync();
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            PaytrimAuthException cause = (PaytrimAuthException) e.getCause();
            assertEquals(PaytrimAuthErrorCode.CREDENTIAL_REJECTED, cause.getCode());
            assertEquals(401, cause.getHttpStatus());
        }
    }

    @Test
    void errorCodeNumbersRoundTrip() {
        for (PaytrimAuthErrorCode c : PaytrimAuthErrorCode.values()) {
            assertEquals(c, PaytrimAuthErrorCode.fromValue(c.value()));
        }
        assertEquals(PaytrimAuthErrorCode.INTERNAL, PaytrimAuthErrorCode.fromValue(99));
    }
}
