package com.paytrim.auth;

import java.util.concurrent.CompletionStage;

/**
 * An {@link AssertionProvider} that answers later: the stage it returns
 * completes with the signed JWT (or exceptionally), on any thread. Called on a
 * library-owned thread, which waits for the stage at most until the fetch's
 * time budget ends. Returning null, or a stage that fails, fails the fetch
 * with a {@link PaytrimAuthException} naming the cause.
 */
@FunctionalInterface
public interface AsyncAssertionProvider {
    /** A stage completing with a signed JWT for {@code request}. */
    CompletionStage<String> getAssertion(AssertionRequest request);
}
