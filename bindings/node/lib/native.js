'use strict';

// The FFI layer: loads libpaytrim_auth.so through koffi, checks its ABI
// version, and declares every function of include/paytrim_auth.h.
//
// Ownership rules (see the header):
// - every `char *` the library hands out is declared as a raw pointer
//   (`void *` / `void **`), copied into a JS string with koffi.decode and then
//   freed with paytrim_auth_string_free — never declared as a string type,
//   which would make koffi copy it and lose (leak) the pointer;
// - `const char *` results are borrowed from an error object or static, so
//   koffi may copy them into JS strings directly;
// - every `paytrim_auth_error *` is read, then freed with
//   paytrim_auth_error_free (except the borrowed one passed to a callback).

const path = require('node:path');
const koffi = require('koffi');

const { ABI_VERSION } = require('./abi');

const platform = require('./platform');

// PAYTRIM_AUTH_LIB (an absolute path) wins; else prebuilds/<platform>-<arch>[-musl]/
// for this process (lib/platform.js), or an error naming the platforms present.
function libraryPath() {
  const override = process.env.PAYTRIM_AUTH_LIB;
  if (override) return path.resolve(override);
  return platform.resolve({ prebuildsDir: path.join(__dirname, '..', 'prebuilds') });
}

const LIBRARY_PATH = libraryPath();

let lib;
try {
  lib = koffi.load(LIBRARY_PATH);
} catch (e) {
  const err = new Error(
    `paytrim-auth: cannot load the native library ${LIBRARY_PATH} (${e.message}). ` +
      'The package carries it under prebuilds/<platform>-<arch>[-musl]/; ' +
      'set PAYTRIM_AUTH_LIB to the absolute path of the library to use another one.'
  );
  err.code = 'PAYTRIM_AUTH_LIBRARY_NOT_FOUND';
  throw err;
}

const abiVersion = lib.func('uint32_t paytrim_auth_abi_version(void)');
const nativeAbi = abiVersion();
if (nativeAbi !== ABI_VERSION) {
  const err = new Error(
    `paytrim-auth: the native library ${LIBRARY_PATH} implements ABI version ${nativeAbi}, ` +
      `but this wrapper was written for ABI version ${ABI_VERSION}; install matching versions of ` +
      'the paytrim-auth package and libpaytrim_auth.so.'
  );
  err.code = 'PAYTRIM_AUTH_ABI_MISMATCH';
  throw err;
}

koffi.opaque('paytrim_auth_error');
koffi.opaque('paytrim_auth_client');
koffi.opaque('paytrim_auth_config');
koffi.opaque('paytrim_auth_credential');

// Declared for completeness; the wrapper never registers a callback that the
// library's threads would call (see lib/notifier.js for why and what instead).
koffi.proto(
  'void paytrim_auth_token_callback(void *user_data, const char *token, int64_t expires_on_unix_ms, const paytrim_auth_error *error)'
);

// Declared for paytrim_auth_credential_from_assertion_callback's signature
// only: no JS function is registered (assertion requests come through the
// notifier, lib/notifier.js).
koffi.proto(
  'void paytrim_auth_assertion_callback(void *user_data, const char *client_id, const char *audience, void *completion)'
);

koffi.proto('void paytrim_auth_free_callback(void *user_data)');

const N = {
  abiVersion,
  version: lib.func('const char *paytrim_auth_version(void)'),

  configNew: lib.func('paytrim_auth_config *paytrim_auth_config_new(void)'),
  configSet: lib.func('paytrim_auth_error *paytrim_auth_config_set(paytrim_auth_config *config, const char *key, const char *value)'),
  configFree: lib.func('void paytrim_auth_config_free(paytrim_auth_config *config)'),

  clientNew: lib.func(
    'paytrim_auth_error *paytrim_auth_client_new(const char *client_id, const char *client_secret, const paytrim_auth_config *config, _Out_ paytrim_auth_client **out_client)'
  ),
  clientFree: lib.func('void paytrim_auth_client_free(paytrim_auth_client *client)'),

  // Owned char ** outputs: raw pointer slots (BigUint64Array(1)), decoded and freed by hand.
  getToken: lib.func(
    'paytrim_auth_error *paytrim_auth_client_get_token(const paytrim_auth_client *client, void *out_token, void *out_expires_on_unix_ms)'
  ),
  getCachedToken: lib.func(
    'paytrim_auth_error *paytrim_auth_client_get_cached_token(const paytrim_auth_client *client, void *out_token, void *out_expires_on_unix_ms)'
  ),
  // Per-call scopes: `scopes` space-separated, each set its own cache entry in the library.
  getCachedTokenForScopes: lib.func(
    'paytrim_auth_error *paytrim_auth_client_get_cached_token_for_scopes(const paytrim_auth_client *client, const char *scopes, void *out_token, void *out_expires_on_unix_ms)'
  ),
  getTokenForScopesNotify: lib.func(
    'paytrim_auth_error *paytrim_auth_client_get_token_for_scopes_notify(const paytrim_auth_client *client, const char *scopes, uint64_t notifier, uint64_t request)'
  ),
  refreshTokenForScopesNotify: lib.func(
    'paytrim_auth_error *paytrim_auth_client_refresh_token_for_scopes_notify(const paytrim_auth_client *client, const char *scopes, uint64_t notifier, uint64_t request)'
  ),
  getTokenAsync: lib.func(
    'paytrim_auth_error *paytrim_auth_client_get_token_async(const paytrim_auth_client *client, paytrim_auth_token_callback *callback, void *user_data)'
  ),
  refreshTokenAsync: lib.func(
    'paytrim_auth_error *paytrim_auth_client_refresh_token_async(const paytrim_auth_client *client, paytrim_auth_token_callback *callback, void *user_data)'
  ),

  // Notifiers (lib/notifier.js): results queued natively, taken on this thread.
  notifierNew: lib.func('paytrim_auth_error *paytrim_auth_notifier_new(_Out_ uint64_t *out_notifier, _Out_ int32_t *out_fd)'),
  notifierNewLoopback: lib.func(
    'paytrim_auth_error *paytrim_auth_notifier_new_loopback(const uint8_t *cookie, size_t cookie_len, _Out_ uint64_t *out_notifier)'
  ),
  notifierConnectLoopback: lib.func('paytrim_auth_error *paytrim_auth_notifier_connect_loopback(uint64_t notifier, uint16_t port)'),
  notifierFree: lib.func('void paytrim_auth_notifier_free(uint64_t notifier)'),
  notifierCloseFd: lib.func('void paytrim_auth_notifier_close_fd(int32_t fd)'),
  // Number and string outputs are raw slots (BigUint64Array / BigInt64Array).
  notifierNext: lib.func(
    'paytrim_auth_error *paytrim_auth_notifier_next(uint64_t notifier, void *out_request, void *out_token, void *out_expires_on_unix_ms, _Out_ paytrim_auth_error **out_error)'
  ),
  notifierNextAssertion: lib.func(
    'paytrim_auth_error *paytrim_auth_notifier_next_assertion(uint64_t notifier, void *out_provider, void *out_client_id, void *out_audience, _Out_ void **out_completion)'
  ),
  credentialFromAssertionNotifier: lib.func(
    'paytrim_auth_error *paytrim_auth_credential_from_assertion_notifier(uint64_t notifier, uint64_t provider, _Out_ paytrim_auth_credential **out_credential)'
  ),
  notifierSetLogLevel: lib.func('paytrim_auth_error *paytrim_auth_notifier_set_log_level(uint64_t notifier, uint32_t level)'),
  notifierNextLog: lib.func(
    'paytrim_auth_error *paytrim_auth_notifier_next_log(uint64_t notifier, _Out_ uint32_t *out_level, void *out_message)'
  ),
  setLogPii: lib.func('void paytrim_auth_set_log_pii(bool enabled)'),
  getTokenNotify: lib.func(
    'paytrim_auth_error *paytrim_auth_client_get_token_notify(const paytrim_auth_client *client, uint64_t notifier, uint64_t request)'
  ),
  refreshTokenNotify: lib.func(
    'paytrim_auth_error *paytrim_auth_client_refresh_token_notify(const paytrim_auth_client *client, uint64_t notifier, uint64_t request)'
  ),

  // Credentials (lib/credentials.js).
  credentialFromSecret: lib.func(
    'paytrim_auth_error *paytrim_auth_credential_from_secret(const char *client_secret, _Out_ paytrim_auth_credential **out_credential)'
  ),
  credentialFromCertificateFile: lib.func(
    'paytrim_auth_error *paytrim_auth_credential_from_certificate_file(const char *path, const char *password, _Out_ paytrim_auth_credential **out_credential)'
  ),
  credentialFromCertificatePem: lib.func(
    'paytrim_auth_error *paytrim_auth_credential_from_certificate_pem(const char *cert_pem, const char *key_pem, const char *password, _Out_ paytrim_auth_credential **out_credential)'
  ),
  credentialFromPkcs12: lib.func(
    'paytrim_auth_error *paytrim_auth_credential_from_pkcs12(const uint8_t *data, size_t len, const char *password, _Out_ paytrim_auth_credential **out_credential)'
  ),
  credentialFromAssertionCallback: lib.func(
    'paytrim_auth_error *paytrim_auth_credential_from_assertion_callback(paytrim_auth_assertion_callback *callback, void *user_data, paytrim_auth_free_callback *free_user_data, _Out_ paytrim_auth_credential **out_credential)'
  ),
  credentialFromFederatedTokenFile: lib.func(
    'paytrim_auth_error *paytrim_auth_credential_from_federated_token_file(const char *path, _Out_ paytrim_auth_credential **out_credential)'
  ),
  credentialSet: lib.func(
    'paytrim_auth_error *paytrim_auth_credential_set(paytrim_auth_credential *credential, const char *key, const char *value)'
  ),
  credentialFree: lib.func('void paytrim_auth_credential_free(paytrim_auth_credential *credential)'),
  assertionComplete: lib.func('paytrim_auth_error *paytrim_auth_assertion_complete(void *completion, const char *assertion)'),
  assertionFail: lib.func('paytrim_auth_error *paytrim_auth_assertion_fail(void *completion, const char *message)'),
  clientNewWithCredential: lib.func(
    'paytrim_auth_error *paytrim_auth_client_new_with_credential(const char *client_id, const paytrim_auth_credential *credential, const paytrim_auth_config *config, _Out_ paytrim_auth_client **out_client)'
  ),
  clientNewFromEnvironment: lib.func(
    'paytrim_auth_error *paytrim_auth_client_new_from_environment(const paytrim_auth_config *config, _Out_ paytrim_auth_client **out_client)'
  ),
  clientNewManagedIdentity: lib.func(
    'paytrim_auth_error *paytrim_auth_client_new_managed_identity(const char *identity, const paytrim_auth_config *config, _Out_ paytrim_auth_client **out_client)'
  ),

  errorCode: lib.func('uint32_t paytrim_auth_error_code(const paytrim_auth_error *error)'),
  errorMessage: lib.func('const char *paytrim_auth_error_message(const paytrim_auth_error *error)'),
  errorIsRetryable: lib.func('bool paytrim_auth_error_is_retryable(const paytrim_auth_error *error)'),
  errorHttpStatus: lib.func('uint16_t paytrim_auth_error_http_status(const paytrim_auth_error *error)'),
  errorOauthError: lib.func('const char *paytrim_auth_error_oauth_error(const paytrim_auth_error *error)'),
  errorOauthErrorDescription: lib.func('const char *paytrim_auth_error_oauth_error_description(const paytrim_auth_error *error)'),
  errorAadstsCodes: lib.func('void *paytrim_auth_error_aadsts_codes(const paytrim_auth_error *error, _Out_ size_t *out_len)'),
  errorTraceId: lib.func('const char *paytrim_auth_error_trace_id(const paytrim_auth_error *error)'),
  errorCorrelationId: lib.func('const char *paytrim_auth_error_correlation_id(const paytrim_auth_error *error)'),
  errorClientRequestId: lib.func('const char *paytrim_auth_error_client_request_id(const paytrim_auth_error *error)'),
  errorTimestamp: lib.func('const char *paytrim_auth_error_timestamp(const paytrim_auth_error *error)'),
  errorRetryAfterMs: lib.func('int64_t paytrim_auth_error_retry_after_ms(const paytrim_auth_error *error)'),
  errorCodeName: lib.func('const char *paytrim_auth_error_code_name(uint32_t code)'),
  errorFree: lib.func('void paytrim_auth_error_free(paytrim_auth_error *error)'),

  stringFree: lib.func('void paytrim_auth_string_free(void *s)'),
};

/** Copies the owned NUL-terminated UTF-8 string at `ptr` (BigInt) and frees it. */
function takeString(ptr) {
  if (!ptr) return null;
  try {
    return koffi.decode(ptr, 'char', -1);
  } finally {
    N.stringFree(ptr);
  }
}

module.exports = { koffi, N, ABI_VERSION, LIBRARY_PATH, takeString };
