package com.paytrim.auth;

import java.time.Duration;
import java.time.Instant;

/**
 * An access token: the string to send after {@code Bearer }, its type and its
 * expiry. Immutable. {@link #toString()} never shows the token.
 */
public final class AccessToken {
    private final String token;
    private final long expiresOnUnixMs;

    AccessToken(String token, long expiresOnUnixMs) {
        this.token = token;
        this.expiresOnUnixMs = expiresOnUnixMs;
    }

    /** The token to put after {@code Bearer } in the Authorization header. */
    public String getToken() {
        return token;
    }

    /** Always {@code Bearer} (other token types are refused when they arrive). */
    public String getTokenType() {
        return "Bearer";
    }

    /** The wall-clock expiry. */
    public Instant getExpiresOn() {
        return Instant.ofEpochMilli(expiresOnUnixMs);
    }

    /** The wall-clock expiry in milliseconds since the Unix epoch. */
    public long getExpiresOnEpochMilli() {
        return expiresOnUnixMs;
    }

    /** Time left before expiry, from now (zero once expired). */
    public Duration getExpiresIn() {
        long left = expiresOnUnixMs - System.currentTimeMillis();
        return Duration.ofMillis(Math.max(0, left));
    }

    /** {@code Bearer <token>}, the value of the Authorization header. */
    public String toAuthorizationHeader() {
        return "Bearer " + token;
    }

    /** Redacted: shows the type and expiry, never the token. */
    @Override
    public String toString() {
        return "AccessToken{type=Bearer, expiresOn=" + getExpiresOn() + ", token=<redacted>}";
    }
}
