package com.paytrim.auth;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The library's fetch thread delivers async results: attached to the JVM once
 * (as a daemon, so it never holds up JVM exit), not once per future, and
 * detached when it ends.
 */
class AsyncCallbackThreadTest {
    private final Emulator emu = Emulator.shared();

    @Test
    void oneFetchDeliversEveryFutureFromOneDaemonThreadThatDetachesWhenItEnds() throws Exception {
        String id = emu.newClient("attach-secret");
        emu.config("{\"latency_ms\":500}");
        int futures = 2000;
        Map<Thread, Boolean> deliverers = Collections.synchronizedMap(new IdentityHashMap<Thread, Boolean>());
        List<CompletableFuture<AccessToken>> all = new ArrayList<>();
        try (PaytrimAuthClient c = emu.builder(id, "attach-secret").asyncExecutor(null).build()) {
            for (int i = 0; i < futures; i++) {
                all.add(c.getTokenAsync().whenComplete((t, e) -> deliverers.put(Thread.currentThread(), Boolean.TRUE)));
            }
            for (CompletableFuture<AccessToken> f : all) {
                assertFalse(f.get(30, TimeUnit.SECONDS).getToken().isEmpty());
            }
        } finally {
            emu.config("{\"latency_ms\":0}");
        }
        assertEquals(1, emu.requestsFor(id).size(), "one fetch for " + futures + " futures");
        // Attaching per callback would make a new java.lang.Thread for every future.
        assertEquals(1, deliverers.size(), "distinct java.lang.Thread objects that delivered the futures");
        Thread fetch = deliverers.keySet().iterator().next();
        assertNotSame(Thread.currentThread(), fetch, "delivered on the library's thread, not inline");
        assertTrue(fetch.isDaemon(), "the library's thread is attached as a daemon: " + fetch);
        // The fetch thread ends after its fetch; its attachment must end with it.
        fetch.join(TimeUnit.SECONDS.toMillis(20));
        assertFalse(fetch.isAlive(), "the attached library thread detached when it ended: " + fetch);
    }
}
