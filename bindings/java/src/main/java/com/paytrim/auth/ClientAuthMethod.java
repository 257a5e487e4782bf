package com.paytrim.auth;

/** How the client authenticates at the token endpoint (RFC 6749 section 2.3.1). */
public enum ClientAuthMethod {
    /** {@code client_id} and {@code client_secret} in the form body (Entra's documented way; the default). */
    CLIENT_SECRET_POST("client_secret_post"),
    /** HTTP Basic with the form-encoded id and secret. */
    CLIENT_SECRET_BASIC("client_secret_basic");

    private final String value;

    ClientAuthMethod(String value) {
        this.value = value;
    }

    /** The configuration value, e.g. {@code client_secret_post}. */
    public String value() {
        return value;
    }
}
