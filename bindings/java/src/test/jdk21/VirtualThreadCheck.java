// Run by VirtualThreadsIT on a JDK 21+ (the Temurin 25 JDK here), in source-launcher mode:
//   java -cp paytrim-auth.jar VirtualThreadCheck.java <https> <http> <caFile> <mode>
// against the project's Entra emulator. Prints "name=value" lines that the IT asserts on.
// Modes:
//   cold  cold-path cost (emulator latency 0): getToken() on a platform thread,
//         getTokenAsync().join(), and getToken() on a virtual thread; medians in ms.
//   vt    10,000 virtual threads calling getToken() on 8 cold keys (latency 1 s), with a
//         watchdog virtual thread that sleeps 20 ms in a loop and records how late it wakes.
//   vt-async  the same with getTokenAsync().join() in each virtual thread.
//   vt-baseline  the same scheduling without the library: each virtual thread joins a
//         per-key CompletableFuture that a timer completes after the latency (what 10,000
//         virtual threads cost this machine, as it is loaded now).
//   fanout  2,000 getTokenAsync() futures on one cold key (latency 300 ms): time from the
//         first future's completion to the last one's (delivery cost per future).
//   api   the other blocking calls on a virtual thread: getTokenJson() cold, refreshToken(),
//         and a failure (a PaytrimAuthException with the caller's stack).
//   hit   cache-hit getToken() on a virtual thread: ns per call.
import com.paytrim.auth.AccessToken;
import com.paytrim.auth.PaytrimAuthClient;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

public class VirtualThreadCheck {
    static String https, http, caFile;

    public static void main(String[] args) throws Exception {
        https = args[0];
        http = args[1];
        caFile = args[2];
        try {
            switch (args[3]) {
                case "cold" -> cold();
                case "vt" -> virtualThreads(args.length > 4 ? Integer.parseInt(args[4]) : 10_000, How.GET_TOKEN);
                case "vt-async" -> virtualThreads(args.length > 4 ? Integer.parseInt(args[4]) : 10_000, How.ASYNC_JOIN);
                case "vt-baseline" -> virtualThreads(args.length > 4 ? Integer.parseInt(args[4]) : 10_000, How.PURE_JAVA);
                case "hit" -> hit();
                case "fanout" -> fanout();
                case "api" -> api();
                default -> throw new IllegalArgumentException(args[3]);
            }
        } finally {
            post("/_emulator/config", "{\"latency_ms\":0}");
        }
        System.out.println("CHECK DONE");
    }

    static PaytrimAuthClient client(String id, String secret) {
        return PaytrimAuthClient.builder(id, secret).authorityHost(https).caFile(caFile)
                .tenant("contoso.onmicrosoft.com").noProxy().build();
    }

    static String newClient(String secret) throws Exception {
        String id = UUID.randomUUID().toString();
        post("/_emulator/clients", "{\"client_id\":\"" + id + "\",\"client_secret\":\"" + secret + "\",\"expired\":false}");
        return id;
    }

    static int requestsFor(String id) throws Exception {
        String all = call("GET", "/_emulator/requests", null);
        String needle = "\"client_id\":\"" + id + "\"";
        int n = 0;
        for (int i = all.indexOf(needle); i >= 0; i = all.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    static double median(List<Double> xs) {
        Double[] a = xs.toArray(new Double[0]);
        Arrays.sort(a);
        return a[a.length / 2];
    }

    /** Cold-path cost of each way of asking, latency 0: medians over rounds, alternating the order. */
    static void cold() throws Exception {
        post("/_emulator/config", "{\"latency_ms\":0}");
        List<Double> sync = new ArrayList<>(), async = new ArrayList<>(), virt = new ArrayList<>();
        int rounds = 31;
        for (int r = 0; r < rounds + 1; r++) {
            String a = newClient("s"), b = newClient("s"), v = newClient("s");
            try (PaytrimAuthClient ca = client(a, "s"); PaytrimAuthClient cb = client(b, "s");
                 PaytrimAuthClient cv = client(v, "s")) {
                long t0 = System.nanoTime();
                ca.getToken();
                long t1 = System.nanoTime();
                cb.getTokenAsync().join();
                long t2 = System.nanoTime();
                AtomicLong took = new AtomicLong();
                Thread.ofVirtual().start(() -> {
                    long s = System.nanoTime();
                    cv.getToken();
                    took.set(System.nanoTime() - s);
                }).join();
                if (r == 0) {
                    continue; // warm-up round (class loading, TLS set-up, JIT)
                }
                sync.add(ms(t1 - t0));
                async.add(ms(t2 - t1));
                virt.add(ms(took.get()));
            }
        }
        System.out.printf("cold_sync_ms=%.2f%n", median(sync));
        System.out.printf("cold_async_join_ms=%.2f%n", median(async));
        System.out.printf("cold_virtual_ms=%.2f%n", median(virt));
    }

    /** One cold key, 2,000 getTokenAsync() futures: how long delivering them all takes after the fetch lands. */
    static void fanout() throws Exception {
        post("/_emulator/config", "{\"latency_ms\":300}");
        for (int round = 0; round < 2; round++) {
            String id = newClient("fan");
            int n = 2000;
            long[] at = new long[n];
            List<CompletableFuture<?>> fs = new ArrayList<>();
            try (PaytrimAuthClient c = PaytrimAuthClient.builder(id, "fan").authorityHost(https).caFile(caFile)
                    .tenant("contoso.onmicrosoft.com").noProxy().asyncExecutor(null).build()) {
                for (int i = 0; i < n; i++) {
                    final int k = i;
                    fs.add(c.getTokenAsync().whenComplete((t, e) -> at[k] = System.nanoTime()));
                }
                for (CompletableFuture<?> f : fs) {
                    f.join();
                }
            }
            long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
            for (long t : at) {
                first = Math.min(first, t);
                last = Math.max(last, t);
            }
            if (round == 1) {
                System.out.printf("fanout_futures=%d%nfanout_delivery_ms=%.1f%n", n, ms(last - first));
            }
        }
    }

    enum How { GET_TOKEN, ASYNC_JOIN, PURE_JAVA }

    static void virtualThreads(int threads, How async) throws Exception {
        // Warm-up (JIT, class loading, TLS set-up): the same run, shorter, unmeasured.
        round(threads, async, 200, false);
        round(threads, async, 1000, true);
    }

    static void round(int threads, How how, long latencyMs, boolean report) throws Exception {
        final int keys = 8;
        String[] ids = new String[keys];
        PaytrimAuthClient[] clients = new PaytrimAuthClient[keys];
        for (int k = 0; k < keys; k++) {
            ids[k] = newClient("vt-secret");
            clients[k] = client(ids[k], "vt-secret");
        }
        post("/_emulator/config", "{\"latency_ms\":" + latencyMs + "}");

        AtomicLong maxLate = new AtomicLong();
        CountDownLatch watchdogRunning = new CountDownLatch(1);
        Thread watchdog = Thread.ofVirtual().name("watchdog").start(() -> {
            watchdogRunning.countDown();
            while (!Thread.currentThread().isInterrupted()) {
                long s = System.nanoTime();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
                long late = System.nanoTime() - s - TimeUnit.MILLISECONDS.toNanos(20);
                maxLate.accumulateAndGet(late, Math::max);
            }
        });
        watchdogRunning.await();

        long[] done = new long[threads];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReferenceArray<String> tokens = new AtomicReferenceArray<>(keys);
        Thread[] ts = new Thread[threads];
        @SuppressWarnings("unchecked")
        CompletableFuture<String>[] pure = new CompletableFuture[keys];
        java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        long t0 = System.nanoTime();
        for (int k = 0; k < keys; k++) {
            CompletableFuture<String> f = pure[k] = new CompletableFuture<>();
            timer.schedule(() -> f.complete("pure-" + f.hashCode()), latencyMs, TimeUnit.MILLISECONDS);
        }
        for (int i = 0; i < threads; i++) {
            final int n = i;
            ts[i] = Thread.ofVirtual().unstarted(() -> {
                try {
                    PaytrimAuthClient c = clients[n % keys];
                    String t = switch (how) {
                        case GET_TOKEN -> c.getToken().getToken();
                        case ASYNC_JOIN -> c.getTokenAsync().join().getToken();
                        case PURE_JAVA -> pure[n % keys].join();
                    };
                    done[n] = System.nanoTime() - t0;
                    tokens.compareAndSet(n % keys, null, t);
                    if (!tokens.get(n % keys).equals(t)) {
                        failure.compareAndSet(null, new AssertionError("two tokens for one key"));
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
        }
        for (Thread t : ts) {
            t.start();
        }
        long started = System.nanoTime() - t0;
        for (Thread t : ts) {
            t.join();
        }
        long all = System.nanoTime() - t0;
        timer.shutdown();
        watchdog.interrupt();
        watchdog.join();
        if (failure.get() != null) {
            failure.get().printStackTrace();
            System.out.println("vt_failure=" + failure.get());
        }
        double[] perKey = new double[keys];
        for (int i = 0; i < threads; i++) {
            perKey[i % keys] = Math.max(perKey[i % keys], ms(done[i]));
        }
        Arrays.sort(perKey);
        StringBuilder sb = new StringBuilder();
        for (double d : perKey) {
            sb.append(sb.length() == 0 ? "" : ",").append(String.format("%.0f", d));
        }
        int requests = how == How.PURE_JAVA ? -keys : 0;
        for (String id : ids) {
            requests += requestsFor(id);
        }
        for (PaytrimAuthClient c : clients) {
            c.close();
        }
        if (!report) {
            return;
        }
        System.out.println("vt_threads=" + threads);
        System.out.println("vt_latency_ms=" + latencyMs);
        System.out.printf("vt_started_ms=%.0f%n", ms(started));
        System.out.println("vt_key_completion_ms=" + sb);
        System.out.printf("vt_all_done_ms=%.0f%n", ms(all));
        System.out.printf("vt_watchdog_max_late_ms=%.0f%n", ms(maxLate.get()));
        System.out.println("vt_requests=" + requests);
    }

    static void api() throws Exception {
        post("/_emulator/config", "{\"latency_ms\":200}");
        String id = newClient("api-secret");
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try (PaytrimAuthClient c = client(id, "api-secret");
                 PaytrimAuthClient bad = client(id, "wrong-secret")) {
                String json = c.getTokenJson();
                String token = c.getToken().getToken();
                check(json.startsWith("{\"token_type\":\"Bearer\",\"expires_in\":") && json.contains(token), "json " + json.length());
                String fresh = c.refreshToken().getToken();
                check(!fresh.equals(token), "refreshToken() on a virtual thread fetched a new token");
                check(c.getToken().getToken().equals(fresh), "and cached it");
                // Per-call scopes park the virtual thread on the async path too.
                String scoped = c.getTokenForScopes("api://vt-scoped/.default").getToken();
                check(!scoped.equals(fresh), "getTokenForScopes() on a virtual thread: that set's own token");
                check(c.getTokenForScopes("api://vt-scoped/.default").getToken().equals(scoped), "and cached it");
                check(!c.refreshTokenForScopes("api://vt-scoped/.default").getToken().equals(scoped),
                        "refreshTokenForScopes() on a virtual thread fetched a new token");
                try {
                    c.getTokenForScopes("");
                    check(false, "an empty scope was accepted");
                } catch (com.paytrim.auth.PaytrimAuthException e) {
                    check(e.getCode() == com.paytrim.auth.PaytrimAuthErrorCode.INVALID_ARGUMENT, "empty scope: " + e.getCode());
                }
                try {
                    bad.getToken();
                    check(false, "a wrong secret was accepted");
                } catch (com.paytrim.auth.PaytrimAuthException e) {
                    check(e.getCode() == com.paytrim.auth.PaytrimAuthErrorCode.CREDENTIAL_REJECTED, "code " + e.getCode());
                    boolean callerStack = false;
                    for (StackTraceElement f : e.getStackTrace()) {
                        callerStack |= f.getClassName().equals("VirtualThreadCheck");
                    }
                    check(callerStack, "the exception carries the caller's stack");
                }
                System.out.println("api_requests=" + requestsFor(id));
            } catch (Throwable t) {
                failure.set(t);
            }
        }).join();
        if (failure.get() != null) {
            failure.get().printStackTrace();
            System.out.println("vt_failure=" + failure.get());
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void hit() throws Exception {
        String id = newClient("hit-secret");
        try (PaytrimAuthClient c = client(id, "hit-secret")) {
            c.getToken();
            AtomicLong best = new AtomicLong(Long.MAX_VALUE);
            Thread.ofVirtual().start(() -> {
                for (int round = 0; round < 5; round++) {
                    int n = 200_000;
                    long s = System.nanoTime();
                    for (int i = 0; i < n; i++) {
                        c.getToken();
                    }
                    best.accumulateAndGet((System.nanoTime() - s) / n, Math::min);
                }
            }).join();
            System.out.println("vt_hit_ns=" + best.get());
            System.out.println("hit_requests=" + requestsFor(id));
        }
    }

    static void post(String path, String body) throws Exception {
        call("POST", path, body);
    }

    static String call(String method, String path, String body) throws Exception {
        HttpURLConnection c = (HttpURLConnection) URI.create(http + path).toURL().openConnection(java.net.Proxy.NO_PROXY);
        c.setRequestMethod(method);
        if (body != null) {
            c.setDoOutput(true);
            c.setRequestProperty("Content-Type", "application/json");
            try (OutputStream os = c.getOutputStream()) {
                os.write(body.getBytes(StandardCharsets.UTF_8));
            }
        }
        int status = c.getResponseCode();
        try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            if (status != 200) {
                throw new IllegalStateException(method + " " + path + " -> " + status + ": " + b);
            }
            return b.toString(StandardCharsets.UTF_8);
        }
    }
}
