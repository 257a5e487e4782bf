package com.paytrim.auth;

import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs every JNI path once (success, cache hit, JSON, refresh, async miss and
 * failure, each exception path, close), for JarIT to run under -Xcheck:jni.
 * Args: https-url http-url ca-file. No dependencies beyond the jar.
 */
public final class JniExercise {
    public static void main(String[] args) throws Exception {
        String https = args[0];
        String http = args[1];
        String ca = args[2];
        String id = UUID.randomUUID().toString();
        post(http + "/_emulator/clients", "{\"client_id\":\"" + id + "\",\"client_secret\":\"xs\",\"expired\":false}");
        post(http + "/_emulator/config", "{\"latency_ms\":100}");
        // Every path below also logs (from Java threads inside calls and from library threads).
        final java.util.concurrent.atomic.AtomicInteger logged = new java.util.concurrent.atomic.AtomicInteger();
        PaytrimAuthClient.setLogger((level, message) -> logged.incrementAndGet(), PaytrimAuthLogger.Level.TRACE);
        PaytrimAuthClient.setLogPii(true);
        try (PaytrimAuthClient c = PaytrimAuthClient.builder(id, "xs").authorityHost(https).caFile(ca)
                .tenant("contoso.onmicrosoft.com").noProxy().maxAttempts(1).build()) {
            check(c.getCachedToken() == null, "nothing cached");
            AccessToken miss = c.getTokenAsync().get(10, TimeUnit.SECONDS);
            AccessToken t = c.getToken();
            check(miss.getToken().equals(t.getToken()), "async result cached");
            for (int i = 0; i < 20000; i++) {
                c.getToken();
            }
            check(c.getTokenJson().contains(t.getToken()), "json");
            check(c.getCachedToken() != null, "cached");
            check(!c.refreshToken().getToken().equals(t.getToken()), "refresh");
            check(c.getTokenAsync().isDone(), "async hit");
            check(!c.refreshTokenAsync().get(10, TimeUnit.SECONDS).getToken().equals(t.getToken()), "refresh async");
        }
        try (PaytrimAuthClient bad = PaytrimAuthClient.builder(id, "wrong").authorityHost(https).caFile(ca)
                .tenant("contoso.onmicrosoft.com").noProxy().maxAttempts(1).build()) {
            try {
                bad.getToken();
                check(false, "wrong secret must fail");
            } catch (PaytrimAuthException e) {
                check(e.getCode() == PaytrimAuthErrorCode.CREDENTIAL_REJECTED, "code " + e.getCode());
            }
            try {
                bad.getTokenAsync().get(10, TimeUnit.SECONDS);
                check(false, "async wrong secret must fail");
            } catch (ExecutionException e) {
                check(e.getCause() instanceof PaytrimAuthException, "async cause " + e.getCause());
            }
            try {
                bad.getTokenJson();
                check(false, "json wrong secret must fail");
            } catch (PaytrimAuthException expected) {
                // thrown from native
            }
        }
        try {
            PaytrimAuthClient.builder(id, "xs").option("nope", "1").build();
            check(false, "unknown option");
        } catch (PaytrimAuthException expected) {
            // thrown from native
        }
        try {
            NativeBridge.newClient(null, null, null, null);
            check(false, "null id");
        } catch (PaytrimAuthException expected) {
            // thrown from native
        }
        PaytrimAuthClient closed = PaytrimAuthClient.builder(id, "xs").build();
        closed.close();
        try {
            closed.getToken();
            check(false, "closed");
        } catch (IllegalStateException expected) {
            // Java-side check
        }
        post(http + "/_emulator/config", "{\"latency_ms\":0}");
        for (int i = 0; i < 500 && logged.get() < 5; i++) {
            Thread.sleep(10);
        }
        check(logged.get() >= 5, "log events delivered: " + logged.get());
        PaytrimAuthClient.setLogger(null, null);
        System.out.println("JNI-EXERCISE OK");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static void post(String url, String body) throws Exception {
        HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/json");
        try (OutputStream os = c.getOutputStream()) {
            os.write(body.getBytes(StandardCharsets.UTF_8));
        }
        if (c.getResponseCode() != 200) {
            throw new IllegalStateException(url + " -> " + c.getResponseCode());
        }
        c.getInputStream().close();
    }
}
