package com.paytrim.auth;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/** One pending {@link PaytrimAuthClient#getTokenAsync()}: completes its future, through the executor if any. */
final class AsyncCall {
    final CompletableFuture<AccessToken> future = new CompletableFuture<AccessToken>();
    private final Executor executor;

    AsyncCall(Executor executor) {
        this.executor = executor;
    }

    void deliver(final String token, final long expiresOnUnixMs, final Throwable error) {
        Runnable complete = new Runnable() {
            @Override
            public void run() {
                if (error != null) {
                    future.completeExceptionally(error);
                } else if (token == null) {
                    future.completeExceptionally(new IllegalStateException("paytrim-auth: no token and no error"));
                } else {
                    future.complete(new AccessToken(token, expiresOnUnixMs));
                }
            }
        };
        if (executor == null) {
            complete.run();
            return;
        }
        try {
            executor.execute(complete);
        } catch (RejectedExecutionException e) {
            complete.run();
        }
    }
}
