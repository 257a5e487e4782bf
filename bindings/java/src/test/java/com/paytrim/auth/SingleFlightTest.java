package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class SingleFlightTest {
    private final Emulator emu = Emulator.shared();
    private static final int THREADS = 48;

    @Test
    void manyThreadsShareOneRequest() throws Exception {
        String id = emu.newClient("flight-secret");
        emu.config("{\"latency_ms\":300}");
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (PaytrimAuthClient c = emu.builder(id, "flight-secret").build()) {
            CyclicBarrier barrier = new CyclicBarrier(THREADS);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                results.add(pool.submit(() -> {
                    barrier.await(10, TimeUnit.SECONDS);
                    return c.getToken().getToken();
                }));
            }
            Set<String> tokens = new HashSet<>();
            for (Future<String> f : results) {
                tokens.add(f.get(30, TimeUnit.SECONDS));
            }
            assertEquals(1, tokens.size(), "every thread got the same token");
        } finally {
            pool.shutdownNow();
            emu.config("{\"latency_ms\":0}");
        }
        assertEquals(1, emu.requestsFor(id).size(), "one request at the emulator for " + THREADS + " threads");
    }

    @Test
    void manyClientsAndAsyncCallersShareOneRequest() throws Exception {
        String id = emu.newClient("flight-async");
        emu.config("{\"latency_ms\":300}");
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<PaytrimAuthClient> clients = new ArrayList<>();
        try {
            CyclicBarrier barrier = new CyclicBarrier(THREADS);
            List<Future<CompletableFuture<AccessToken>>> started = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                PaytrimAuthClient c = emu.builder(id, "flight-async").build();
                clients.add(c);
                started.add(pool.submit(() -> {
                    barrier.await(10, TimeUnit.SECONDS);
                    return c.getTokenAsync();
                }));
            }
            Set<String> tokens = new HashSet<>();
            for (Future<CompletableFuture<AccessToken>> f : started) {
                tokens.add(f.get(30, TimeUnit.SECONDS).get(30, TimeUnit.SECONDS).getToken());
            }
            assertEquals(1, tokens.size());
        } finally {
            for (PaytrimAuthClient c : clients) {
                c.close();
            }
            pool.shutdownNow();
            emu.config("{\"latency_ms\":0}");
        }
        assertEquals(1, emu.requestsFor(id).size());
    }
}
