package com.paytrim.auth;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Whether the calling thread is a virtual thread (JDK 21+), found through a
 * method handle so that the jar stays Java 8 bytecode: on a JDK without
 * {@code Thread.isVirtual()} every thread is a platform thread.
 *
 * <p>Why it matters: a virtual thread that blocks inside a native method
 * cannot unmount, so it holds its carrier thread (one of only as many as
 * there are cores) for the whole fetch, and the JDK reports no pinning event
 * for it. The client therefore waits for a fetch on a virtual thread through
 * the asynchronous path: it parks on a {@code CompletableFuture}, which
 * unmounts the virtual thread and frees the carrier.
 */
final class VirtualThreads {
    private static final MethodHandle IS_VIRTUAL = find();

    private VirtualThreads() {
    }

    private static MethodHandle find() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                    MethodType.methodType(boolean.class));
        } catch (NoSuchMethodException e) {
            return null; // before JDK 19 (preview) / 21: no virtual threads
        } catch (IllegalAccessException e) {
            return null;
        }
    }

    /** True on a virtual thread; false on a platform thread and on JDKs without virtual threads. */
    static boolean current() {
        MethodHandle h = IS_VIRTUAL;
        if (h == null) {
            return false;
        }
        try {
            return (boolean) h.invokeExact(Thread.currentThread());
        } catch (Throwable t) {
            return false;
        }
    }
}
