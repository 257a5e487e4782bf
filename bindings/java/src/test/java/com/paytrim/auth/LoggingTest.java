package com.paytrim.auth;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The process-wide logger: what it receives, on which thread, and that it never holds the library up. */
class LoggingTest {
    private final Emulator emu = Emulator.shared();

    static final class Event {
        final PaytrimAuthLogger.Level level;
        final String message;
        final String thread;

        Event(PaytrimAuthLogger.Level level, String message) {
            this.level = level;
            this.message = message;
            this.thread = Thread.currentThread().getName();
        }

        @Override
        public String toString() {
            return level + " [" + thread + "] " + message;
        }
    }

    static final class Recorder implements PaytrimAuthLogger {
        final List<Event> events = new ArrayList<>();

        @Override
        public synchronized void log(Level level, String message) {
            events.add(new Event(level, message));
            notifyAll();
        }

        synchronized List<Event> awaitMatching(String needle, long millis) throws InterruptedException {
            long end = System.currentTimeMillis() + millis;
            while (events.stream().noneMatch(e -> e.message.contains(needle))) {
                long left = end - System.currentTimeMillis();
                if (left <= 0) {
                    fail("no event containing '" + needle + "' in " + events);
                }
                wait(left);
            }
            return new ArrayList<>(events);
        }
    }

    @AfterEach
    void off() {
        PaytrimAuthClient.setLogger(null, null);
        PaytrimAuthClient.setLogPii(false);
        emu.config("{\"latency_ms\":0}");
    }

    @Test
    void eventsOfAFetchReachTheLoggerWithoutSecretsOrTokens() throws Exception {
        String id = emu.newClient("log-secret-XYZ");
        Recorder r = new Recorder();
        PaytrimAuthClient.setLogger(r, PaytrimAuthLogger.Level.DEBUG);
        String token;
        try (PaytrimAuthClient c = emu.builder(id, "log-secret-XYZ").build()) {
            token = c.getToken().getToken();
            c.getToken(); // a hit logs nothing
        }
        List<Event> events = r.awaitMatching("token fetched", 10_000);
        assertTrue(events.stream().anyMatch(e -> e.level == PaytrimAuthLogger.Level.DEBUG && e.message.startsWith("cache miss")), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.message.startsWith("fetch start")), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.message.startsWith("fetch end") && e.message.contains(" ms")), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.level == PaytrimAuthLogger.Level.INFO && e.message.startsWith("token fetched")), events.toString());
        for (Event e : events) {
            assertEquals("paytrim-auth-log", e.thread, "delivered on the logger thread: " + e);
            assertFalse(e.message.contains("log-secret-XYZ"), e.toString());
            assertFalse(e.message.contains(token), e.toString());
            assertFalse(e.message.contains(id), "no client id without PII on: " + e);
        }
    }

    @Test
    void levelFiltersAndPiiSwitch() throws Exception {
        String id = emu.newClient("log-pii");
        Recorder r = new Recorder();
        PaytrimAuthClient.setLogger(r, PaytrimAuthLogger.Level.INFO);
        PaytrimAuthClient.setLogPii(true);
        try (PaytrimAuthClient c = emu.builder(id, "log-pii").build()) {
            c.getToken();
        }
        List<Event> events = r.awaitMatching("token fetched", 10_000);
        for (Event e : events) {
            assertTrue(e.level.compareTo(PaytrimAuthLogger.Level.INFO) <= 0, "INFO and above only: " + e);
        }
        assertTrue(events.stream().anyMatch(e -> e.message.contains(id)), "client id with PII on: " + events);
    }

    @Test
    void aLoggerThatThrowsOrBlocksNeverHoldsUpTheLibrary() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> seen = new ArrayList<>();
        PaytrimAuthClient.setLogger((level, message) -> {
            synchronized (seen) {
                seen.add(message);
            }
            try {
                release.await(); // blocks on the first event until the test lets go
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("a broken logger");
        }, PaytrimAuthLogger.Level.TRACE);
        // Blocked logger: fetches (each logging several events) still complete at once.
        for (int i = 0; i < 3; i++) {
            String id = emu.newClient("log-blocked");
            try (PaytrimAuthClient c = emu.builder(id, "log-blocked").build()) {
                long t0 = System.nanoTime();
                assertFalse(c.getToken().getToken().isEmpty());
                assertFalse(c.getTokenAsync().get(10, TimeUnit.SECONDS).getToken().isEmpty());
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 5_000, "a fetch took " + ms + " ms with the logger blocked");
            }
        }
        // Events reach the logger on the library's dispatch thread, maybe after the fetches
        // ended: wait (bounded) for the first, then it must be the only one so far.
        long first = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < first) {
            synchronized (seen) {
                if (!seen.isEmpty()) {
                    break;
                }
            }
            Thread.sleep(10);
        }
        synchronized (seen) {
            assertEquals(1, seen.size(), "the logger is still blocked in its first event");
        }
        release.countDown();
        // The throwing logger keeps receiving the queued events.
        long end = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < end) {
            synchronized (seen) {
                if (seen.size() >= 6) {
                    break;
                }
            }
            Thread.sleep(10);
        }
        synchronized (seen) {
            assertTrue(seen.size() >= 6, "queued events delivered after the logger threw: " + seen);
        }
    }

    @Test
    void offMeansOff() throws Exception {
        Recorder r = new Recorder();
        PaytrimAuthClient.setLogger(r, PaytrimAuthLogger.Level.TRACE);
        PaytrimAuthClient.setLogger(null, null);
        Thread.sleep(100); // let anything queued before "off" drain
        synchronized (r) {
            r.events.clear();
        }
        String id = emu.newClient("log-off");
        try (PaytrimAuthClient c = emu.builder(id, "log-off").build()) {
            c.getToken();
        }
        Thread.sleep(200);
        synchronized (r) {
            assertTrue(r.events.isEmpty(), r.events.toString());
        }
        assertThrows(IllegalArgumentException.class, () -> PaytrimAuthClient.setLogger(r, null));
    }
}
