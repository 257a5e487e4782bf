'use strict';

// Constants mirrored from include/paytrim_auth.h. test/header.test.js parses
// the header and fails on any drift.

/** PAYTRIM_AUTH_ABI_VERSION this wrapper was written for. */
const ABI_VERSION = 1;

/** PAYTRIM_AUTH_ERROR_<NAME> values. */
const ERROR_CODES = Object.freeze({
  INVALID_ARGUMENT: 1,
  CREDENTIAL_REJECTED: 2,
  TENANT_NOT_FOUND: 3,
  THROTTLED: 4,
  NETWORK: 5,
  TLS: 6,
  SERVER: 7,
  PROTOCOL: 8,
  REQUEST_REJECTED: 9,
  INTERNAL: 10,
});

module.exports = { ABI_VERSION, ERROR_CODES };
