/*
 * C ABI test of the credential object: certificate (PEM file, PEM text,
 * PKCS#12, options), assertion callback (sync, async from another thread,
 * failure, NULL, garbage, never answered), federated token file, the
 * environment factory, and their bad inputs. Built with -Wall -Wextra
 * -Werror and run under valgrind by tests/c/run.sh, which makes the keys
 * and certificates at run time with openssl into PAYTRIM_TEST_CERTS:
 *   cert.pem key.pem combined.pem   a certificate registered at the emulator
 *   wrongkey.pem                    that certificate with another key
 *   other.pem                       an unregistered certificate and its key
 *   cert.pfx                        PKCS#12 of the first, password "pfx-pw"
 *   federated.jwt                   a federated token (iss/sub below)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"

#define CERT_CLIENT "c0c0c0c0-0000-4000-8000-00000000c3c7"
#define FED_CLIENT "c0c0c0c0-0000-4000-8000-00000000fed1"
#define FED_ISSUER "https://oidc.example/c-test"
#define FED_SUBJECT "system:serviceaccount:c:test"

static const char *dir;
static int counter;

static char *path_of(const char *name) {
    static char buf[8][512];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* Registers the certificate client and the federated client at the emulator. */
static void register_clients(void) {
    char *pem = read_file(path_of("cert.pem"));
    size_t cap = strlen(pem) * 2 + 256;
    char *body = malloc(cap), *w = body;
    w += sprintf(w, "{\"client_id\":\"%s\",\"certificate_pem\":\"", CERT_CLIENT);
    for (const char *p = pem; *p; p++) {
        if (*p == '\n') {
            *w++ = '\\';
            *w++ = 'n';
        } else {
            *w++ = *p;
        }
    }
    strcpy(w, "\"}");
    char *resp = control("POST", "/_emulator/clients", body);
    CHECK(strstr(resp, "\"ok\":true") != NULL, "register certificate client: %s", resp);
    free(resp);
    free(body);
    free(pem);
    control_post("/_emulator/clients", "{\"client_id\":\"" FED_CLIENT "\",\"federated_issuer\":\"" FED_ISSUER
                                       "\",\"federated_subject\":\"" FED_SUBJECT "\"}");
}

static paytrim_auth_config *emulator_config(void) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    char scope[64];
    snprintf(scope, sizeof scope, "api://c-cred-%d-%d/.default", (int)getpid(), ++counter);
    paytrim_auth_error *e1 = paytrim_auth_config_set(config, "authority_host", https_url);
    paytrim_auth_error *e2 = paytrim_auth_config_set(config, "tenant", "contoso.onmicrosoft.com");
    paytrim_auth_error *e3 = paytrim_auth_config_set(config, "ca_file", ca_file);
    paytrim_auth_error *e4 = paytrim_auth_config_set(config, "scope", scope);
    paytrim_auth_error *e5 = paytrim_auth_config_set(config, "proxy", "none");
    /* Requests are counted: no attempt may be cut and resent under valgrind. */
    paytrim_auth_error_free(paytrim_auth_config_set(config, "timeout_ms", "60000"));
    paytrim_auth_error_free(paytrim_auth_config_set(config, "total_timeout_ms", "120000"));
    CHECK(!e1 && !e2 && !e3 && !e4 && !e5, "config_set: %s", msg(e1 ? e1 : e2 ? e2 : e3 ? e3 : e4 ? e4 : e5));
    paytrim_auth_error_free(e1), paytrim_auth_error_free(e2), paytrim_auth_error_free(e3);
    paytrim_auth_error_free(e4), paytrim_auth_error_free(e5);
    return config;
}

/* Makes a client for `client_id` with `credential` (freed here: the client
 * keeps its own reference), gets a token, and returns the error (or NULL). */
static paytrim_auth_error *token_with(const char *client_id, paytrim_auth_credential *credential,
                                      paytrim_auth_config *config) {
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new_with_credential(client_id, credential, config, &client);
    paytrim_auth_credential_free(credential);
    paytrim_auth_config_free(config);
    if (err) {
        return err;
    }
    char *token = NULL;
    err = paytrim_auth_client_get_token(client, &token, NULL);
    CHECK((err == NULL) == (token != NULL), "token xor error");
    paytrim_auth_string_free(token);
    paytrim_auth_client_free(client);
    return err;
}

static void expect_ok(paytrim_auth_error *err, const char *what) {
    CHECK(err == NULL, "%s: %s", what, msg(err));
    paytrim_auth_error_free(err);
}

static void expect_error(paytrim_auth_error *err, uint32_t code, const char *needle, const char *what) {
    CHECK(err != NULL && paytrim_auth_error_code(err) == code && strstr(msg(err), needle) != NULL,
          "%s: expected code %u with '%s', got: %s", what, code, needle, msg(err));
    paytrim_auth_error_free(err);
}

static void test_certificates(void) {
    paytrim_auth_credential *c = NULL;
    expect_ok(paytrim_auth_credential_from_certificate_file(path_of("combined.pem"), NULL, &c), "from file");
    expect_ok(token_with(CERT_CLIENT, c, emulator_config()), "token with a PEM file");

    char *cert = read_file(path_of("cert.pem")), *key = read_file(path_of("key.pem"));
    c = NULL;
    expect_ok(paytrim_auth_credential_from_certificate_pem(cert, key, NULL, &c), "from PEM text");
    expect_ok(paytrim_auth_credential_set(c, "signing_algorithm", "RS256"), "set RS256");
    expect_ok(paytrim_auth_credential_set(c, "send_certificate_chain", "true"), "set chain");
    expect_error(paytrim_auth_credential_set(c, "signing_algorithm", "ES256"), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "PS256", "bad algorithm");
    expect_error(paytrim_auth_credential_set(c, "colour", "blue"), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "unknown credential option 'colour'", "unknown option");
    expect_ok(token_with(CERT_CLIENT, c, emulator_config()), "token with RS256 + x5c");
    free(cert);
    free(key);

    c = NULL;
    expect_ok(paytrim_auth_credential_from_certificate_file(path_of("cert.pfx"), "pfx-pw", &c), "from PKCS#12");
    expect_ok(token_with(CERT_CLIENT, c, emulator_config()), "token with PKCS#12");

    /* The same archive from memory. */
    FILE *f = fopen(path_of("cert.pfx"), "rb");
    unsigned char pfx[16384];
    size_t pfx_len = f ? fread(pfx, 1, sizeof pfx, f) : 0;
    if (f) {
        fclose(f);
    }
    c = NULL;
    expect_ok(paytrim_auth_credential_from_pkcs12(pfx, pfx_len, "pfx-pw", &c), "from PKCS#12 bytes");
    expect_ok(token_with(CERT_CLIENT, c, emulator_config()), "token with PKCS#12 bytes");
    expect_error(paytrim_auth_credential_from_pkcs12(pfx, pfx_len, "wrong", &c), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "wrong password", "PKCS#12 bytes, wrong password");
    expect_error(paytrim_auth_credential_from_pkcs12(pfx, 10, "pfx-pw", &c), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "PKCS#12", "truncated PKCS#12 bytes");
    expect_error(paytrim_auth_credential_from_pkcs12(NULL, 10, "pfx-pw", &c), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "data is NULL", "NULL PKCS#12 data");
    expect_error(paytrim_auth_credential_from_pkcs12(pfx, 0, "pfx-pw", &c), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "0 bytes", "empty PKCS#12 data");

    c = (paytrim_auth_credential *)1;
    expect_error(paytrim_auth_credential_from_certificate_file(path_of("cert.pfx"), "wrong", &c),
                 PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "cert.pfx", "PKCS#12 wrong password");
    CHECK(c == NULL, "output cleared on error");
    expect_error(paytrim_auth_credential_from_certificate_file(path_of("wrongkey.pem"), NULL, &c),
                 PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "does not match the certificate", "wrong key");
    expect_error(paytrim_auth_credential_from_certificate_file("/nonexistent.pem", NULL, &c),
                 PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "/nonexistent.pem", "missing file");
    expect_error(paytrim_auth_credential_from_certificate_file(NULL, NULL, &c), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "path is NULL", "NULL path");
    expect_error(paytrim_auth_credential_from_certificate_file(path_of("combined.pem"), NULL, NULL),
                 PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "out_credential is NULL", "NULL out");
    expect_error(paytrim_auth_credential_from_certificate_pem("\xc3\x28", "x", NULL, &c),
                 PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "UTF-8", "non-UTF-8 PEM");

    /* A certificate the server does not know: rejected, not retried. */
    c = NULL;
    expect_ok(paytrim_auth_credential_from_certificate_file(path_of("other.pem"), NULL, &c), "other cert");
    long before = token_requests();
    expect_error(token_with(CERT_CLIENT, c, emulator_config()), PAYTRIM_AUTH_ERROR_CREDENTIAL_REJECTED, "700027",
                 "unregistered certificate");
    CHECK(token_requests() == before + 1, "one request, no retry");
}

/* ---- assertion callbacks ---- */

struct signer {
    paytrim_auth_credential *cert; /* signs the assertions */
    int mode;                      /* see the enum */
    int freed;                     /* free_user_data calls */
    int calls;
    pthread_mutex_t lock;
    paytrim_auth_assertion_completion *parked; /* mode NEVER: answered after the test */
};
enum { SYNC, ASYNC, FAIL, NUL, GARBAGE, NEVER };

struct later {
    paytrim_auth_assertion_completion *completion;
    char *assertion;
};

static void *complete_later(void *arg) {
    struct later *l = arg;
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    paytrim_auth_error_free(paytrim_auth_assertion_complete(l->completion, l->assertion));
    paytrim_auth_string_free(l->assertion);
    free(l);
    return NULL;
}

static void on_assertion(void *user_data, const char *client_id, const char *audience,
                         paytrim_auth_assertion_completion *completion) {
    struct signer *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    pthread_mutex_unlock(&s->lock);
    char *assertion = NULL;
    switch (s->mode) {
    case SYNC:
        expect_ok(paytrim_auth_credential_sign_assertion(s->cert, client_id, audience, &assertion), "sign");
        expect_ok(paytrim_auth_assertion_complete(completion, assertion), "complete");
        paytrim_auth_string_free(assertion);
        break;
    case ASYNC: {
        struct later *l = malloc(sizeof *l);
        l->completion = completion;
        expect_ok(paytrim_auth_credential_sign_assertion(s->cert, client_id, audience, &l->assertion), "sign");
        pthread_t t;
        pthread_create(&t, NULL, complete_later, l);
        pthread_detach(t);
        break;
    }
    case FAIL:
        expect_ok(paytrim_auth_assertion_fail(completion, "key vault said 403"), "fail");
        break;
    case NUL:
        expect_error(paytrim_auth_assertion_complete(completion, NULL), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                     "assertion is NULL", "complete(NULL)");
        break;
    case GARBAGE:
        expect_error(paytrim_auth_assertion_complete(completion, "<html>nope</html>"),
                     PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "not a compact JWT", "complete(garbage)");
        break;
    case NEVER:
        s->parked = completion;
        break;
    }
}

static void free_signer(void *user_data) {
    struct signer *s = user_data;
    pthread_mutex_lock(&s->lock);
    s->freed++;
    pthread_mutex_unlock(&s->lock);
}

static int freed_count(struct signer *s) {
    pthread_mutex_lock(&s->lock);
    int n = s->freed;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void test_callbacks(void) {
    paytrim_auth_credential *cert = NULL;
    expect_ok(paytrim_auth_credential_from_certificate_file(path_of("combined.pem"), NULL, &cert), "signer cert");
    struct {
        int mode;
        uint32_t code; /* 0: success */
        const char *needle;
    } cases[] = {
        {SYNC, 0, ""},
        {ASYNC, 0, ""},
        {FAIL, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "key vault said 403"},
        {NUL, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "assertion is NULL"},
        {GARBAGE, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "not a compact JWT"},
        {NEVER, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "no answer within"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct signer s = {cert, cases[i].mode, 0, 0, PTHREAD_MUTEX_INITIALIZER, NULL};
        paytrim_auth_credential *c = NULL;
        expect_ok(paytrim_auth_credential_from_assertion_callback(on_assertion, &s, free_signer, &c), "callback");
        paytrim_auth_config *config = emulator_config();
        if (cases[i].mode == NEVER) {
            paytrim_auth_error_free(paytrim_auth_config_set(config, "total_timeout_ms", "700"));
        }
        time_t started = time(NULL);
        paytrim_auth_error *err = token_with(CERT_CLIENT, c, config);
        if (cases[i].code == 0) {
            expect_ok(err, "callback token");
        } else {
            expect_error(err, cases[i].code, cases[i].needle, "callback failure");
        }
        CHECK(time(NULL) - started < 20, "bounded wait (case %zu)", i);
        CHECK(s.calls == 1, "called once per attempt (case %zu): %d", i, s.calls);
        if (s.parked) {
            /* Answered after the fetch gave up: accepted and freed. */
            expect_ok(paytrim_auth_assertion_fail(s.parked, "too late"), "late answer");
        }
        /* The fetch thread drops its reference as it ends. */
        for (int w = 0; w < 500 && freed_count(&s) == 0; w++) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        CHECK(freed_count(&s) == 1, "free_user_data called once (case %zu): %d", i, freed_count(&s));
    }
    char *out = NULL;
    expect_error(paytrim_auth_credential_sign_assertion(cert, NULL, "aud", &out), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "client_id is NULL", "sign NULL id");
    paytrim_auth_credential_free(cert);

    paytrim_auth_credential *c = (paytrim_auth_credential *)1;
    expect_error(paytrim_auth_credential_from_assertion_callback(NULL, NULL, NULL, &c),
                 PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "callback is NULL", "NULL callback");
    CHECK(c == NULL, "output cleared");
    expect_error(paytrim_auth_assertion_complete(NULL, "a.b.c"), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "completion is NULL", "NULL completion");
    expect_error(paytrim_auth_assertion_fail(NULL, "x"), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "completion is NULL",
                 "NULL completion (fail)");
    /* A secret credential signs nothing and has no options. */
    expect_ok(paytrim_auth_credential_from_secret("s", &c), "from secret");
    expect_error(paytrim_auth_credential_sign_assertion(c, "id", "aud", &out), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "only a certificate credential", "sign with a secret");
    expect_error(paytrim_auth_credential_set(c, "signing_algorithm", "RS256"), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "has no options", "options on a secret");
    paytrim_auth_credential_free(c);
    c = NULL;
    expect_error(paytrim_auth_credential_from_secret("", &c), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "empty",
                 "empty secret");
    paytrim_auth_credential_free(NULL);
}

static void test_federated(void) {
    paytrim_auth_credential *c = NULL;
    expect_ok(paytrim_auth_credential_from_federated_token_file(path_of("federated.jwt"), &c), "federated file");
    expect_ok(token_with(FED_CLIENT, c, emulator_config()), "token with a federated token");
    c = NULL;
    expect_error(paytrim_auth_credential_from_federated_token_file("/nonexistent/token", &c),
                 PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "/nonexistent/token", "missing federated file");
    expect_error(paytrim_auth_client_new_with_credential(FED_CLIENT, NULL, NULL, (paytrim_auth_client **)&c),
                 PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "credential is NULL", "NULL credential");
}

static void test_environment(void) {
    static const char *vars[] = {"PAYTRIM_CLIENT_ID",           "PAYTRIM_TENANT_ID",     "PAYTRIM_AUTHORITY_HOST",
                                 "PAYTRIM_CLIENT_SECRET",       "PAYTRIM_CA_FILE",       "AZURE_CLIENT_ID",
                                 "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
                                 "AZURE_FEDERATED_TOKEN_FILE",  "PAYTRIM_SCOPE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        unsetenv(vars[i]);
    }
    paytrim_auth_client *client = NULL;
    expect_error(paytrim_auth_client_new_from_environment(NULL, &client), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "PAYTRIM_CLIENT_ID (or AZURE_CLIENT_ID)", "empty environment");
    setenv("AZURE_CLIENT_ID", CERT_CLIENT, 1);
    setenv("AZURE_TENANT_ID", "contoso.onmicrosoft.com", 1);
    setenv("AZURE_AUTHORITY_HOST", https_url, 1);
    setenv("PAYTRIM_CA_FILE", ca_file, 1);
    setenv("PAYTRIM_SCOPE", "api://c-env/.default", 1);
    setenv("AZURE_CLIENT_CERTIFICATE_PATH", path_of("combined.pem"), 1);
    setenv("AZURE_CLIENT_SECRET", "s", 1);
    expect_error(paytrim_auth_client_new_from_environment(NULL, &client), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH", "conflict");
    unsetenv("AZURE_CLIENT_SECRET");
    paytrim_auth_config *config = paytrim_auth_config_new();
    paytrim_auth_error_free(paytrim_auth_config_set(config, "proxy", "none"));
    expect_ok(paytrim_auth_client_new_from_environment(config, &client), "client from environment");
    paytrim_auth_config_free(config);
    char *token = NULL;
    expect_ok(paytrim_auth_client_get_token(client, &token, NULL), "token from environment");
    CHECK(token != NULL, "a token");
    paytrim_auth_string_free(token);
    paytrim_auth_client_free(client);
    expect_error(paytrim_auth_client_new_from_environment(NULL, NULL), PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT,
                 "out_client is NULL", "NULL out");
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        unsetenv(vars[i]);
    }
    unsetenv("AZURE_AUTHORITY_HOST");
}

int main(void) {
    harness_init();
    dir = getenv("PAYTRIM_TEST_CERTS");
    if (!dir) {
        fprintf(stderr, "run through tests/c/run.sh (needs PAYTRIM_TEST_CERTS)\n");
        return 2;
    }
    register_clients();
    test_certificates();
    test_callbacks();
    test_federated();
    test_environment();
    printf("c-credentials: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
