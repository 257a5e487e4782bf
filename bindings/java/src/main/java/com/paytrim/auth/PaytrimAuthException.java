package com.paytrim.auth;

import java.time.Duration;

/**
 * A token could not be obtained, or an option was refused. Carries everything
 * known about the failure: the {@link PaytrimAuthErrorCode category}, the HTTP
 * status, the OAuth error fields, Entra's AADSTS codes and ids, and how long to
 * wait before retrying. Messages never contain secrets or tokens.
 *
 * <p>Unchecked, so it passes through lambdas and {@code CompletableFuture}
 * stages; in a failed future it is the cause of the {@code CompletionException}.
 */
public class PaytrimAuthException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private static final int[] NO_CODES = new int[0];

    private final PaytrimAuthErrorCode code;
    private final boolean retryable;
    private final int httpStatus;
    private final String oauthError;
    private final String oauthErrorDescription;
    private final int[] aadstsCodes;
    private final String traceId;
    private final String correlationId;
    private final String clientRequestId;
    private final String timestamp;
    private final long retryAfterMs;

    /** Called from native code (signature fixed in src/ffi/jni.rs). */
    PaytrimAuthException(int code, String message, boolean retryable, int httpStatus,
                         String oauthError, String oauthErrorDescription, int[] aadstsCodes,
                         String traceId, String correlationId, String clientRequestId,
                         String timestamp, long retryAfterMs) {
        super(PaytrimAuthErrorCode.fromValue(code).nativeName() + ": " + message);
        this.code = PaytrimAuthErrorCode.fromValue(code);
        this.retryable = retryable;
        this.httpStatus = httpStatus;
        this.oauthError = oauthError;
        this.oauthErrorDescription = oauthErrorDescription;
        this.aadstsCodes = aadstsCodes == null ? NO_CODES : aadstsCodes;
        this.traceId = traceId;
        this.correlationId = correlationId;
        this.clientRequestId = clientRequestId;
        this.timestamp = timestamp;
        this.retryAfterMs = retryAfterMs;
    }

    /** The category. */
    public PaytrimAuthErrorCode getCode() {
        return code;
    }

    /** Whether the same call may succeed later, unchanged (throttled, network, server, protocol). */
    public boolean isRetryable() {
        return retryable;
    }

    /** The HTTP status of the failing answer, or 0 when there was none. */
    public int getHttpStatus() {
        return httpStatus;
    }

    /** The OAuth {@code error} field, e.g. {@code invalid_client}; null when absent. */
    public String getOAuthError() {
        return oauthError;
    }

    /** The OAuth {@code error_description} field; null when absent. */
    public String getOAuthErrorDescription() {
        return oauthErrorDescription;
    }

    /** Entra's AADSTS numbers, e.g. {@code [7000215]}; empty when none (a copy). */
    public int[] getAadstsCodes() {
        return aadstsCodes.clone();
    }

    /** Entra's {@code trace_id}; null when absent. */
    public String getTraceId() {
        return traceId;
    }

    /** Entra's {@code correlation_id}; null when absent. */
    public String getCorrelationId() {
        return correlationId;
    }

    /** The {@code client-request-id} this library sent with the failing request; null when none. */
    public String getClientRequestId() {
        return clientRequestId;
    }

    /** Entra's {@code timestamp}; null when absent. */
    public String getTimestamp() {
        return timestamp;
    }

    /** How long the server asked us to wait (or what is left of a remembered throttle); null when unknown. */
    public Duration getRetryAfter() {
        return retryAfterMs < 0 ? null : Duration.ofMillis(retryAfterMs);
    }

    /**
     * The class name and {@link #getMessage()}, which already holds the category, the HTTP status,
     * the OAuth error, the AADSTS code and the request, trace and correlation ids, each once: the
     * same text as C, C# and Node print (tests/error_texts.tsv).
     */
    @Override
    public String toString() {
        return getClass().getName() + ": " + getMessage();
    }
}
