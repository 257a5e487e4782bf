package com.paytrim.auth;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Owns a native client handle. Calls {@link #acquire()} and {@link #release()}
 * around every native call; {@link #close()} marks the handle closed, and the
 * handle is freed by whichever comes last: the close, or the last call in
 * flight. So close never waits for a fetch, and never frees under a running call.
 */
final class NativeHandle implements Runnable {
    private static final int CLOSED = 1;
    private static final int ONE_CALL = 2;

    private final AtomicLong handle;
    /** (calls in flight * 2) | CLOSED */
    private final AtomicInteger state = new AtomicInteger();

    NativeHandle(long handle) {
        this.handle = new AtomicLong(handle);
    }

    long acquire() {
        for (;;) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException("PaytrimAuthClient is closed");
            }
            if (state.compareAndSet(s, s + ONE_CALL)) {
                return handle.get();
            }
        }
    }

    void release() {
        if (state.addAndGet(-ONE_CALL) == CLOSED) {
            free();
        }
    }

    /** Returns true for the call that closed it. */
    boolean close() {
        for (;;) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s | CLOSED)) {
                if (s == 0) {
                    free();
                }
                return true;
            }
        }
    }

    /** Native calls running now (a test seam: lets tests wait for a call to be inside the library). */
    int callsInFlight() {
        return state.get() / ONE_CALL;
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    private void free() {
        long h = handle.getAndSet(0);
        if (h != 0) {
            NativeBridge.freeClient(h);
        }
    }

    /** The cleaner's action for a client that was never closed. */
    @Override
    public void run() {
        close();
    }
}
