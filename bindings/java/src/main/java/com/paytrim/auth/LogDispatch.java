package com.paytrim.auth;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Carries log events from the native library (any thread, often a library
 * fetch thread) to the user's {@link PaytrimAuthLogger} on one daemon thread,
 * so that a slow or blocking logger never delays a fetch.
 */
final class LogDispatch implements Runnable {
    static final int CAPACITY = 4096;

    private static final BlockingQueue<Object[]> QUEUE = new ArrayBlockingQueue<Object[]>(CAPACITY);
    private static final AtomicLong DROPPED = new AtomicLong();
    private static volatile PaytrimAuthLogger logger;
    private static Thread thread;

    private LogDispatch() {
    }

    static synchronized void set(PaytrimAuthLogger l, PaytrimAuthLogger.Level level) {
        NativeBridge.ensureLoaded();
        logger = l;
        if (l != null && thread == null) {
            Thread t = new Thread(new LogDispatch(), "paytrim-auth-log");
            t.setDaemon(true);
            t.start();
            thread = t;
        }
        NativeBridge.setLogLevel(l == null ? 0 : level.value);
    }

    /** From native code: never blocks, never throws. */
    static void enqueue(int level, String message) {
        if (!QUEUE.offer(new Object[] {level, message})) {
            DROPPED.incrementAndGet();
        }
    }

    @Override
    public void run() {
        for (;;) {
            Object[] e;
            try {
                e = QUEUE.take();
            } catch (InterruptedException ie) {
                continue; // a daemon for the life of the JVM
            }
            PaytrimAuthLogger l = logger;
            if (l == null) {
                continue;
            }
            long dropped = DROPPED.getAndSet(0);
            if (dropped > 0) {
                deliver(l, PaytrimAuthLogger.Level.WARN, "paytrim-auth: " + dropped
                        + " log event(s) dropped: the logger did not keep up");
            }
            deliver(l, PaytrimAuthLogger.Level.of((Integer) e[0]), (String) e[1]);
        }
    }

    private static void deliver(PaytrimAuthLogger l, PaytrimAuthLogger.Level level, String message) {
        try {
            l.log(level, message);
        } catch (Throwable ignored) {
            // The user's logger failed: nothing sensible to do, and the next event still goes to it.
        }
    }
}
