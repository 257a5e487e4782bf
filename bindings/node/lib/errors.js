'use strict';

const { ERROR_CODES } = require('./abi');

/** Wrapper-only code: the client was closed. Not a native category (codeNumber 0). */
const CLIENT_CLOSED = 'CLIENT_CLOSED';

const CODE_NAMES = Object.freeze(
  Object.fromEntries(Object.entries(ERROR_CODES).map(([name, n]) => [n, name]))
);

/**
 * An error from paytrim-auth: a stable `code` per category, a message safe to
 * log (never a secret or token), and the identity provider's details.
 */
class PaytrimAuthError extends Error {
  constructor(message, details = {}) {
    const codeNumber = details.codeNumber ?? 0;
    // A native category leads the message ("credential_rejected: ..."): the same text as C
    // (code name, ": ", message), Java and C# (tests/error_texts.tsv).
    const category = CODE_NAMES[codeNumber];
    super(category ? `${category.toLowerCase()}: ${message}` : message,
      details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'PaytrimAuthError';
    /** Category, e.g. 'CREDENTIAL_REJECTED' (see ERROR_CODES), or 'CLIENT_CLOSED'. */
    this.code = details.code ?? CODE_NAMES[codeNumber] ?? 'UNKNOWN';
    /** Numeric PAYTRIM_AUTH_ERROR_* value; 0 for wrapper-only errors. */
    this.codeNumber = codeNumber;
    this.httpStatus = details.httpStatus ?? null;
    this.oauthError = details.oauthError ?? null;
    this.oauthErrorDescription = details.oauthErrorDescription ?? null;
    this.aadstsCodes = details.aadstsCodes ?? [];
    this.traceId = details.traceId ?? null;
    this.correlationId = details.correlationId ?? null;
    this.clientRequestId = details.clientRequestId ?? null;
    this.timestamp = details.timestamp ?? null;
    /** Seconds to wait before trying again (from Retry-After), or null. */
    this.retryAfterS = details.retryAfterS ?? null;
    this.retryable = details.retryable ?? false;
  }
}

module.exports = { ERROR_CODES, CODE_NAMES, CLIENT_CLOSED, PaytrimAuthError };
