package com.paytrim.auth;

/**
 * What an {@link AssertionProvider} is asked to sign: a client assertion JWT
 * (RFC 7523) with {@code aud} = {@link #getAudience()} (the token endpoint) and
 * {@code iss} = {@code sub} = {@link #getClientId()}, a unique {@code jti}, and
 * {@code exp} a few minutes ahead.
 */
public final class AssertionRequest {
    private final String clientId;
    private final String audience;

    AssertionRequest(String clientId, String audience) {
        this.clientId = clientId;
        this.audience = audience;
    }

    /** The client id: the assertion's {@code iss} and {@code sub}. */
    public String getClientId() {
        return clientId;
    }

    /** The token endpoint URL: the assertion's {@code aud}. */
    public String getAudience() {
        return audience;
    }

    @Override
    public String toString() {
        return "AssertionRequest{clientId=" + clientId + ", audience=" + audience + "}";
    }
}
