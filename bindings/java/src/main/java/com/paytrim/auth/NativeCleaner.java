package com.paytrim.auth;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Java 8 stand-in for {@code java.lang.ref.Cleaner}: runs an action once its
 * owner is unreachable, on one daemon thread. The backstop for clients that
 * are never closed; {@code close()} remains the way to free them promptly.
 */
final class NativeCleaner {
    private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<Object>();
    private static final Set<Ref> LIVE = Collections.newSetFromMap(new ConcurrentHashMap<Ref, Boolean>());
    private static final AtomicLong CLEANED = new AtomicLong();
    private static volatile Thread thread;

    private NativeCleaner() {
    }

    static final class Ref extends PhantomReference<Object> {
        private final Runnable action;

        Ref(Object owner, Runnable action) {
            super(owner, QUEUE);
            this.action = action;
        }

        /** Runs the action at most once and forgets the owner. */
        void clean() {
            if (LIVE.remove(this)) {
                clear();
                action.run();
            }
        }
    }

    static Ref register(Object owner, Runnable action) {
        startThread();
        Ref r = new Ref(owner, action);
        LIVE.add(r);
        return r;
    }

    /** Number of owners cleaned by the backstop (for tests). */
    static long cleanedCount() {
        return CLEANED.get();
    }

    private static void startThread() {
        if (thread != null) {
            return;
        }
        synchronized (NativeCleaner.class) {
            if (thread != null) {
                return;
            }
            Thread t = new Thread(new Runnable() {
                @Override
                public void run() {
                    for (;;) {
                        try {
                            Ref r = (Ref) QUEUE.remove();
                            if (LIVE.contains(r)) {
                                CLEANED.incrementAndGet();
                            }
                            r.clean();
                        } catch (InterruptedException e) {
                            // keep going: this thread lives as long as the class
                        } catch (Throwable t) {
                            // never die on a failed action
                        }
                    }
                }
            }, "paytrim-auth-cleaner");
            t.setDaemon(true);
            t.start();
            thread = t;
        }
    }
}
