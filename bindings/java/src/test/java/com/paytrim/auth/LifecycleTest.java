package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class LifecycleTest {
    private final Emulator emu = Emulator.shared();

    @Test
    void nullOrEmptyCredentialsAreIllegalArguments() {
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder(null, "s"));
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder("", "s"));
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder("   ", "s"));
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder("id", null));
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder("id", ""));
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.create(null, null));
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder("id", "s").option(null, "x"));
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder("id", "s").option("tenant", null));
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder("id", "s").scope());
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.builder("id", "s").timeout(java.time.Duration.ofSeconds(-1)));
    }

    @Test
    void nativeChecksArgumentsToo() {
        // Bypass the Java checks: the native side refuses with an exception, never a crash.
        NativeBridge.ensureLoaded();
        PaytrimAuthException e = assertThrows(PaytrimAuthException.class,
                () -> NativeBridge.newClient(null, "s", null, null));
        assertEquals(PaytrimAuthErrorCode.INVALID_ARGUMENT, e.getCode());
        assertThrows(PaytrimAuthException.class, () -> NativeBridge.newClient("id", "", null, null));
        assertThrows(PaytrimAuthException.class, () -> NativeBridge.newClient("id", "s", new String[] {"tenant"}, null));
        assertThrows(PaytrimAuthException.class, () -> NativeBridge.newClient("id", "s", new String[] {null}, new String[] {"x"}));
        assertThrows(PaytrimAuthException.class, () -> NativeBridge.getToken(0, new long[1]));
        assertThrows(PaytrimAuthException.class, () -> NativeBridge.getTokenAsync(0, new Object()));
        NativeBridge.freeClient(0);
    }

    @Test
    void useAfterCloseIsIllegalState() {
        String id = emu.newClient("closed-secret");
        PaytrimAuthClient c = emu.builder(id, "closed-secret").build();
        c.getToken();
        assertFalse(c.isClosed());
        c.close();
        c.close(); // idempotent
        assertTrue(c.isClosed());
        assertThrows(IllegalStateException.class, c::getToken);
        assertThrows(IllegalStateException.class, c::getTokenJson);
        assertThrows(IllegalStateException.class, c::getTokenAsync);
        assertThrows(IllegalStateException.class, c::refreshToken);
        assertThrows(IllegalStateException.class, c::getCachedToken);
        assertTrue(c.toString().contains("closed"));
    }

    @Test
    void closeRacingWithCallsNeverCrashes() throws Exception {
        String id = emu.newClient("race-secret");
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            for (int round = 0; round < 20; round++) {
                PaytrimAuthClient c = emu.builder(id, "race-secret").build();
                c.getToken();
                CountDownLatch go = new CountDownLatch(1);
                AtomicInteger ok = new AtomicInteger();
                AtomicInteger closed = new AtomicInteger();
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 12; t++) {
                    fs.add(pool.submit(() -> {
                        go.await();
                        for (int i = 0; i < 2000; i++) {
                            try {
                                assertFalse(c.getToken().getToken().isEmpty());
                                ok.incrementAndGet();
                            } catch (IllegalStateException e) {
                                closed.incrementAndGet();
                                return null;
                            }
                        }
                        return null;
                    }));
                }
                for (int t = 0; t < 4; t++) {
                    fs.add(pool.submit(() -> {
                        go.await();
                        Thread.sleep(1);
                        c.close();
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : fs) {
                    f.get(30, TimeUnit.SECONDS);
                }
                assertTrue(c.isClosed());
                assertThrows(IllegalStateException.class, c::getToken);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, emu.requestsFor(id).size(), "all rounds shared one cached token");
    }

    @Test
    void closeDuringAFetchDoesNotWaitAndTheFetchFinishes() throws Exception {
        String id = emu.newClient("close-fetch");
        emu.fault("{\"kind\":\"stall\",\"ms\":3000}");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            PaytrimAuthClient c = emu.builder(id, "close-fetch").build();
            java.util.concurrent.CompletableFuture<AccessToken> async = c.getTokenAsync();
            Future<AccessToken> sync = pool.submit(c::getToken);
            // Wait (bounded) until the blocking call is inside the library, not a fixed sleep.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (c.callsInFlight() < 1 && !sync.isDone() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, c.callsInFlight(), "the blocking call is in the library");
            long t0 = System.nanoTime();
            c.close();
            long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertFalse(sync.isDone(), "the stalled fetch is still running after close returned");
            // The fetch stalls 3 s; close must not wait for it (generous: half of that).
            assertTrue(closeMs < 1500, "close took " + closeMs + " ms");
            assertFalse(sync.get(20, TimeUnit.SECONDS).getToken().isEmpty());
            assertFalse(async.get(20, TimeUnit.SECONDS).getToken().isEmpty());
            assertEquals(0, c.callsInFlight());
        } finally {
            pool.shutdown();
        }
        assertEquals(1, emu.requestsFor(id).size(), "both calls shared one request");
    }

    @Test
    void unclosedClientsAreFreedByTheBackstop() throws Exception {
        String id = emu.newClient("gc-secret");
        long before = NativeCleaner.cleanedCount();
        for (int i = 0; i < 50; i++) {
            emu.builder(id, "gc-secret").build();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (NativeCleaner.cleanedCount() - before < 50 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(NativeCleaner.cleanedCount() - before >= 50, "cleaned " + (NativeCleaner.cleanedCount() - before));
    }
}
