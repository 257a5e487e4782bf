/*
 * "Output parameters are cleared first and written only on success", for
 * every export that has outputs, on every way it can fail: a bad argument, a
 * NULL output next to a writable one (the writable one is still cleared), and
 * a failure that comes from the server. Each row fills the outputs with
 * garbage, makes the failing call, and checks that an error came back and
 * every output it was given reads as cleared (NULL, 0, or -1 for a
 * descriptor). Run under valgrind by tests/c/run.sh.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "harness.h"

#define GARBAGE ((void *)0x1)
#define CLIENT_ID "11111111-1111-1111-1111-111111111111"

static paytrim_auth_client *good_client, *rejected_client;

/* An error came back; frees it. */
static int failed_call(paytrim_auth_error *err) {
    int ok = err != NULL;
    paytrim_auth_error_free(err);
    return ok;
}

typedef int (*row_fn)(void); /* returns 1 when the call failed and every output is cleared */

static int client_new_null_id(void) {
    paytrim_auth_client *c = GARBAGE;
    return failed_call(paytrim_auth_client_new(NULL, "s", NULL, &c)) && c == NULL;
}
static int client_new_bad_config_value(void) {
    paytrim_auth_client *c = GARBAGE;
    return failed_call(paytrim_auth_client_new("\xff", "s", NULL, &c)) && c == NULL;
}
static int client_new_with_credential_null(void) {
    paytrim_auth_client *c = GARBAGE;
    return failed_call(paytrim_auth_client_new_with_credential(CLIENT_ID, NULL, NULL, &c)) && c == NULL;
}
static int client_new_managed_identity_bad(void) {
    paytrim_auth_client *c = GARBAGE;
    return failed_call(paytrim_auth_client_new_managed_identity("no_such_kind:x", NULL, &c)) && c == NULL;
}
static int client_new_from_environment_incomplete(void) {
    paytrim_auth_client *c = GARBAGE;
    return failed_call(paytrim_auth_client_new_from_environment(NULL, &c)) && c == NULL;
}
static int get_token_null_client(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_token(NULL, &t, &x)) && t == NULL && x == 0;
}
static int get_token_null_out_token(void) {
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_token(good_client, NULL, &x)) && x == 0;
}
static int get_token_rejected(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_token(rejected_client, &t, &x)) && t == NULL && x == 0;
}
static int get_token_json_null_client(void) {
    char *j = GARBAGE;
    return failed_call(paytrim_auth_client_get_token_json(NULL, &j)) && j == NULL;
}
static int get_token_json_rejected(void) {
    char *j = GARBAGE;
    return failed_call(paytrim_auth_client_get_token_json(rejected_client, &j)) && j == NULL;
}
static int get_cached_token_null_client(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_cached_token(NULL, &t, &x)) && t == NULL && x == 0;
}
static int get_cached_token_null_out_token(void) {
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_cached_token(good_client, NULL, &x)) && x == 0;
}
static int refresh_token_null_client(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_refresh_token(NULL, &t, &x)) && t == NULL && x == 0;
}
static int refresh_token_null_out_token(void) {
    int64_t x = 42;
    return failed_call(paytrim_auth_client_refresh_token(good_client, NULL, &x)) && x == 0;
}
static int refresh_token_rejected(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_refresh_token(rejected_client, &t, &x)) && t == NULL && x == 0;
}
static int get_token_for_scopes_null_client(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_token_for_scopes(NULL, "api://x/.default", &t, &x)) && t == NULL &&
           x == 0;
}
static int get_token_for_scopes_null_out_token(void) {
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_token_for_scopes(good_client, "api://x/.default", NULL, &x)) && x == 0;
}
static int get_token_for_scopes_null_scopes(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_token_for_scopes(good_client, NULL, &t, &x)) && t == NULL && x == 0;
}
static int get_token_for_scopes_rejected(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_token_for_scopes(rejected_client, "api://x/.default", &t, &x)) &&
           t == NULL && x == 0;
}
static int get_cached_token_for_scopes_null_out_token(void) {
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_cached_token_for_scopes(good_client, "api://x/.default", NULL, &x)) &&
           x == 0;
}
static int get_cached_token_for_scopes_null_scopes(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_get_cached_token_for_scopes(good_client, NULL, &t, &x)) && t == NULL &&
           x == 0;
}
static int refresh_token_for_scopes_null_out_token(void) {
    int64_t x = 42;
    return failed_call(paytrim_auth_client_refresh_token_for_scopes(good_client, "api://x/.default", NULL, &x)) &&
           x == 0;
}
static int refresh_token_for_scopes_rejected(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    return failed_call(paytrim_auth_client_refresh_token_for_scopes(rejected_client, "api://x/.default", &t, &x)) &&
           t == NULL && x == 0;
}
static int credential_from_secret_null(void) {
    paytrim_auth_credential *c = GARBAGE;
    return failed_call(paytrim_auth_credential_from_secret(NULL, &c)) && c == NULL;
}
static int credential_from_certificate_file_missing(void) {
    paytrim_auth_credential *c = GARBAGE;
    return failed_call(paytrim_auth_credential_from_certificate_file("/nonexistent/cert.pem", NULL, &c)) && c == NULL;
}
static int credential_from_certificate_pem_garbage(void) {
    paytrim_auth_credential *c = GARBAGE;
    return failed_call(paytrim_auth_credential_from_certificate_pem("not pem", "not pem", NULL, &c)) && c == NULL;
}
static int credential_from_pkcs12_garbage(void) {
    paytrim_auth_credential *c = GARBAGE;
    static const uint8_t junk[] = {0x30, 0x00, 0x01};
    return failed_call(paytrim_auth_credential_from_pkcs12(junk, sizeof junk, NULL, &c)) && c == NULL;
}
static int credential_from_assertion_callback_null(void) {
    paytrim_auth_credential *c = GARBAGE;
    return failed_call(paytrim_auth_credential_from_assertion_callback(NULL, NULL, NULL, &c)) && c == NULL;
}
static int credential_from_federated_token_file_null(void) {
    paytrim_auth_credential *c = GARBAGE;
    return failed_call(paytrim_auth_credential_from_federated_token_file(NULL, &c)) && c == NULL;
}
static int credential_from_assertion_notifier_unknown(void) {
    paytrim_auth_credential *c = GARBAGE;
    return failed_call(paytrim_auth_credential_from_assertion_notifier(UINT64_MAX, 1, &c)) && c == NULL;
}
static int credential_sign_assertion_null(void) {
    char *a = GARBAGE;
    return failed_call(paytrim_auth_credential_sign_assertion(NULL, CLIENT_ID, "aud", &a)) && a == NULL;
}
static int notifier_new_null_out_notifier(void) {
    int32_t fd = 42;
    return failed_call(paytrim_auth_notifier_new(NULL, &fd)) && fd == -1;
}
static int notifier_new_loopback_null_cookie(void) {
    uint64_t n = 42;
    return failed_call(paytrim_auth_notifier_new_loopback(NULL, 32, &n)) && n == 0;
}
static int notifier_new_loopback_short_cookie(void) {
    static const uint8_t cookie[8] = {1};
    uint64_t n = 42;
    return failed_call(paytrim_auth_notifier_new_loopback(cookie, sizeof cookie, &n)) && n == 0;
}
static int notifier_new_loopback_null_out(void) {
    static const uint8_t cookie[32] = {1};
    return failed_call(paytrim_auth_notifier_new_loopback(cookie, sizeof cookie, NULL));
}
static int notifier_connect_loopback_unknown(void) {
    return failed_call(paytrim_auth_notifier_connect_loopback(UINT64_MAX, 9));
}
static int notifier_next_unknown(void) {
    uint64_t r = 42;
    char *t = GARBAGE;
    int64_t x = 42;
    paytrim_auth_error *e = GARBAGE;
    return failed_call(paytrim_auth_notifier_next(UINT64_MAX, &r, &t, &x, &e)) && r == 0 && t == NULL && x == 0 &&
           e == NULL;
}
static int notifier_next_null_out_request(void) {
    char *t = GARBAGE;
    int64_t x = 42;
    paytrim_auth_error *e = GARBAGE;
    return failed_call(paytrim_auth_notifier_next(UINT64_MAX, NULL, &t, &x, &e)) && t == NULL && x == 0 && e == NULL;
}
static int notifier_next_log_unknown(void) {
    uint32_t l = 42;
    char *m = GARBAGE;
    return failed_call(paytrim_auth_notifier_next_log(UINT64_MAX, &l, &m)) && l == 0 && m == NULL;
}
static int notifier_next_log_null_out_level(void) {
    char *m = GARBAGE;
    return failed_call(paytrim_auth_notifier_next_log(UINT64_MAX, NULL, &m)) && m == NULL;
}
static int notifier_next_assertion_unknown(void) {
    uint64_t p = 42;
    char *id = GARBAGE, *aud = GARBAGE;
    paytrim_auth_assertion_completion *c = GARBAGE;
    return failed_call(paytrim_auth_notifier_next_assertion(UINT64_MAX, &p, &id, &aud, &c)) && p == 0 &&
           id == NULL && aud == NULL && c == NULL;
}
static int notifier_next_assertion_null_out_provider(void) {
    char *id = GARBAGE, *aud = GARBAGE;
    paytrim_auth_assertion_completion *c = GARBAGE;
    return failed_call(paytrim_auth_notifier_next_assertion(UINT64_MAX, NULL, &id, &aud, &c)) && id == NULL &&
           aud == NULL && c == NULL;
}
static int error_aadsts_codes_null(void) {
    size_t n = 42;
    return paytrim_auth_error_aadsts_codes(NULL, &n) == NULL && n == 0;
}

static const struct {
    const char *name;
    row_fn run;
} rows[] = {
    {"client_new: NULL client_id", client_new_null_id},
    {"client_new: client_id not UTF-8", client_new_bad_config_value},
    {"client_new_with_credential: NULL credential", client_new_with_credential_null},
    {"client_new_managed_identity: unknown kind", client_new_managed_identity_bad},
    {"client_new_from_environment: no credential set", client_new_from_environment_incomplete},
    {"get_token: NULL client", get_token_null_client},
    {"get_token: NULL out_token, expiry given", get_token_null_out_token},
    {"get_token: secret rejected by the server", get_token_rejected},
    {"get_token_json: NULL client", get_token_json_null_client},
    {"get_token_json: secret rejected by the server", get_token_json_rejected},
    {"get_cached_token: NULL client", get_cached_token_null_client},
    {"get_cached_token: NULL out_token, expiry given", get_cached_token_null_out_token},
    {"refresh_token: NULL client", refresh_token_null_client},
    {"refresh_token: NULL out_token, expiry given", refresh_token_null_out_token},
    {"refresh_token: secret rejected by the server", refresh_token_rejected},
    {"get_token_for_scopes: NULL client", get_token_for_scopes_null_client},
    {"get_token_for_scopes: NULL out_token, expiry given", get_token_for_scopes_null_out_token},
    {"get_token_for_scopes: NULL scopes", get_token_for_scopes_null_scopes},
    {"get_token_for_scopes: secret rejected by the server", get_token_for_scopes_rejected},
    {"get_cached_token_for_scopes: NULL out_token, expiry given", get_cached_token_for_scopes_null_out_token},
    {"get_cached_token_for_scopes: NULL scopes", get_cached_token_for_scopes_null_scopes},
    {"refresh_token_for_scopes: NULL out_token, expiry given", refresh_token_for_scopes_null_out_token},
    {"refresh_token_for_scopes: secret rejected by the server", refresh_token_for_scopes_rejected},
    {"credential_from_secret: NULL secret", credential_from_secret_null},
    {"credential_from_certificate_file: missing file", credential_from_certificate_file_missing},
    {"credential_from_certificate_pem: not PEM", credential_from_certificate_pem_garbage},
    {"credential_from_pkcs12: not PKCS#12", credential_from_pkcs12_garbage},
    {"credential_from_assertion_callback: NULL callback", credential_from_assertion_callback_null},
    {"credential_from_federated_token_file: NULL path", credential_from_federated_token_file_null},
    {"credential_from_assertion_notifier: unknown notifier", credential_from_assertion_notifier_unknown},
    {"credential_sign_assertion: NULL credential", credential_sign_assertion_null},
    {"notifier_new: NULL out_notifier, out_fd given", notifier_new_null_out_notifier},
    {"notifier_next: unknown notifier", notifier_next_unknown},
    {"notifier_next: NULL out_request, others given", notifier_next_null_out_request},
    {"notifier_new_loopback: NULL cookie", notifier_new_loopback_null_cookie},
    {"notifier_new_loopback: cookie too short", notifier_new_loopback_short_cookie},
    {"notifier_new_loopback: NULL out_notifier", notifier_new_loopback_null_out},
    {"notifier_connect_loopback: unknown notifier", notifier_connect_loopback_unknown},
    {"notifier_next_log: unknown notifier", notifier_next_log_unknown},
    {"notifier_next_log: NULL out_level, out_message given", notifier_next_log_null_out_level},
    {"notifier_next_assertion: unknown notifier", notifier_next_assertion_unknown},
    {"notifier_next_assertion: NULL out_provider, others given", notifier_next_assertion_null_out_provider},
    {"error_aadsts_codes: NULL error", error_aadsts_codes_null},
};

static paytrim_auth_client *emulator_client(const char *secret) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    char scope[64];
    snprintf(scope, sizeof scope, "api://c-outputs-%d/.default", (int)getpid());
    paytrim_auth_error *errs[] = {
        paytrim_auth_config_set(config, "authority_host", https_url),
        paytrim_auth_config_set(config, "tenant", "contoso.onmicrosoft.com"),
        paytrim_auth_config_set(config, "ca_file", ca_file),
        paytrim_auth_config_set(config, "scope", scope),
        paytrim_auth_config_set(config, "proxy", "none"),
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        CHECK(errs[i] == NULL, "config: %s", msg(errs[i]));
        paytrim_auth_error_free(errs[i]);
    }
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new(CLIENT_ID, secret, config, &client);
    CHECK(err == NULL, "client_new: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_config_free(config);
    return client;
}

int main(void) {
    harness_init();
    /* No credential in the environment: from_environment must fail. */
    const char *vars[] = {"PAYTRIM_CLIENT_ID", "PAYTRIM_CLIENT_SECRET", "PAYTRIM_CLIENT_CERTIFICATE_PATH",
                          "PAYTRIM_FEDERATED_TOKEN_FILE", "PAYTRIM_MANAGED_IDENTITY", "AZURE_CLIENT_ID",
                          "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        unsetenv(vars[i]);
    }
    good_client = emulator_client("your-client-secret");
    rejected_client = emulator_client("a-wrong-secret");
    /* A valid token cached first: the failing calls must not leak it into their outputs. */
    char *token = NULL;
    paytrim_auth_error *err = paytrim_auth_client_get_token(good_client, &token, NULL);
    CHECK(err == NULL && token != NULL, "warm-up: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_string_free(token);

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        /* Twice: a failing call after a failing call clears as well as the first. */
        for (int round = 0; round < 2; round++) {
            CHECK(rows[i].run(), "%s (round %d): no error, or an output left uncleared", rows[i].name, round + 1);
        }
    }
    paytrim_auth_client_free(good_client);
    paytrim_auth_client_free(rejected_client);
    printf("c-outputs-cleared: %zu failing calls over every export with outputs; %d passed, %d failed\n",
           sizeof rows / sizeof rows[0], passed, failed);
    return failed == 0 ? 0 : 1;
}
