package com.paytrim.auth;

/**
 * Supplies a signed client assertion (a compact JWT) when a token fetch needs
 * one: for keys held in an HSM or a key vault. Called once per token request
 * (never on a cache hit), on a library-owned thread attached to the JVM, so it
 * may block while it signs; the fetch waits for it at most until its time
 * budget ({@link PaytrimAuthClient.Builder#totalTimeout}) ends, and then fails
 * with a {@link PaytrimAuthException}. An exception it throws fails the fetch
 * with a {@link PaytrimAuthException} of code
 * {@link PaytrimAuthErrorCode#INVALID_ARGUMENT} whose message names the
 * exception (keep secrets out of exception messages).
 *
 * @see AsyncAssertionProvider for a signer that answers later
 */
@FunctionalInterface
public interface AssertionProvider {
    /** A signed JWT for {@code request}. */
    String getAssertion(AssertionRequest request) throws Exception;
}
