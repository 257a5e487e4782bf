package com.paytrim.auth;

/**
 * The category of a {@link PaytrimAuthException}. The numbers are the C ABI's
 * {@code PAYTRIM_AUTH_ERROR_*} values (checked against the header by the test suite);
 * they are never reused.
 */
public enum PaytrimAuthErrorCode {
    /** A bad argument or configuration value (the message names it). */
    INVALID_ARGUMENT(1, "invalid_argument"),
    /** The client id or secret was refused (for example AADSTS7000215, AADSTS700016). */
    CREDENTIAL_REJECTED(2, "credential_rejected"),
    /** The tenant does not exist or cannot be used (for example AADSTS90002). */
    TENANT_NOT_FOUND(3, "tenant_not_found"),
    /** The server asked us to slow down (HTTP 429, or a remembered throttle); see {@link PaytrimAuthException#getRetryAfter()}. */
    THROTTLED(4, "throttled"),
    /** Connecting, sending or receiving failed, or a timeout expired. */
    NETWORK(5, "network"),
    /** The TLS handshake failed: untrusted certificate, wrong host name, and so on. */
    TLS(6, "tls"),
    /** The server answered with a 5xx status. */
    SERVER(7, "server"),
    /** The answer was not a usable token response (malformed JSON, wrong token type, HTML page, too large). */
    PROTOCOL(8, "protocol"),
    /** The server refused the request for another reason (for example invalid_scope). */
    REQUEST_REJECTED(9, "request_rejected"),
    /** A bug in paytrim-auth (a caught panic, a failed thread start). */
    INTERNAL(10, "internal");

    private final int value;
    private final String nativeName;

    PaytrimAuthErrorCode(int value, String nativeName) {
        this.value = value;
        this.nativeName = nativeName;
    }

    /** The C ABI number ({@code PAYTRIM_AUTH_ERROR_*}). */
    public int value() {
        return value;
    }

    /** The stable snake_case name, as {@code paytrim_auth_error_code_name} returns it. */
    public String nativeName() {
        return nativeName;
    }

    /** The code for a C ABI number; unknown numbers map to {@link #INTERNAL}. */
    public static PaytrimAuthErrorCode fromValue(int value) {
        for (PaytrimAuthErrorCode c : values()) {
            if (c.value == value) {
                return c;
            }
        }
        return INTERNAL;
    }
}
