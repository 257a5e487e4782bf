/*
 * C ABI test: every export, its bad-input paths, ownership and threading,
 * against the local Entra emulator. Built with -Wall -Wextra -Werror against
 * the committed header and run under valgrind by tests/c/run.sh, which
 * starts the emulator and passes its addresses in the environment:
 *   PAYTRIM_TEST_HTTPS  https://127.0.0.1:PORT   (token endpoint host)
 *   PAYTRIM_TEST_HTTP   http://127.0.0.1:PORT    (control API)
 *   PAYTRIM_TEST_CA     CA file to trust
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "paytrim_auth.h"

static int passed, failed;

#define CHECK(cond, ...)                                            \
    do {                                                            \
        if (cond) {                                                 \
            passed++;                                               \
        } else {                                                    \
            failed++;                                               \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                           \
            fprintf(stderr, "\n");                                  \
        }                                                           \
    } while (0)

static const char *https_url, *ca_file;
static int control_port;

/* ---- a tiny HTTP/1.1 client for the emulator's plain control API ---- */

static char *control(const char *method, const char *path, const char *body) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)control_port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "cannot reach the emulator's control port\n");
        exit(2);
    }
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        exit(2);
    }
    size_t cap = 1 << 16, len = 0;
    char *resp = malloc(cap);
    ssize_t r;
    while ((r = read(fd, resp + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (len + 1 >= cap) {
            cap *= 2;
            resp = realloc(resp, cap);
        }
    }
    resp[len] = '\0';
    close(fd);
    return resp;
}

static long token_requests(void) {
    char *resp = control("GET", "/_emulator/stats", NULL);
    const char *p = strstr(resp, "\"token_requests\":");
    long n = p ? strtol(p + strlen("\"token_requests\":"), NULL, 10) : -1;
    free(resp);
    return n;
}

static void control_post(const char *path, const char *body) {
    free(control("POST", path, body));
}

/* ---- helpers ---- */

static int is_code(paytrim_auth_error *err, uint32_t code) {
    return err != NULL && paytrim_auth_error_code(err) == code;
}

static const char *msg(paytrim_auth_error *err) {
    return err ? paytrim_auth_error_message(err) : "(no error)";
}

/* NULL-safe comparisons: a call that failed leaves its output NULL, and the
 * checks after it must then fail with their message, not crash the suite. */
static int same_text(const char *a, const char *b) {
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int has_text(const char *haystack, const char *needle) {
    return haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
}

static int counter;

/* A config pointing at the emulator; scope made unique per call so each
 * test has its own cache key. */
static paytrim_auth_config *emulator_config(void) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    char scope[64];
    snprintf(scope, sizeof scope, "api://c-test-%d-%d/.default", (int)getpid(), ++counter);
    paytrim_auth_error *e1 = paytrim_auth_config_set(config, "authority_host", https_url);
    paytrim_auth_error *e2 = paytrim_auth_config_set(config, "tenant", "contoso.onmicrosoft.com");
    paytrim_auth_error *e3 = paytrim_auth_config_set(config, "ca_file", ca_file);
    paytrim_auth_error *e4 = paytrim_auth_config_set(config, "scope", scope);
    CHECK(!e1 && !e2 && !e3 && !e4, "config_set: %s %s %s %s", msg(e1), msg(e2), msg(e3), msg(e4));
    paytrim_auth_error_free(e1), paytrim_auth_error_free(e2), paytrim_auth_error_free(e3), paytrim_auth_error_free(e4);
    /* Tests here count requests: under valgrind on a loaded machine an attempt
     * can outlast the default timeouts and be resent, so each attempt gets
     * 60 s (a test that needs a tighter bound sets it). The loopback emulator
     * is reached directly whatever the environment's proxy variables say. */
    const char *generous[][2] = {{"connect_timeout_ms", "60000"}, {"timeout_ms", "60000"},
                                 {"total_timeout_ms", "120000"}, {"proxy", "none"}};
    for (size_t i = 0; i < sizeof generous / sizeof generous[0]; i++) {
        paytrim_auth_error *e = paytrim_auth_config_set(config, generous[i][0], generous[i][1]);
        CHECK(e == NULL, "config_set %s: %s", generous[i][0], msg(e));
        paytrim_auth_error_free(e);
    }
    return config;
}

#define CLIENT_ID "11111111-1111-1111-1111-111111111111"
#define SECRET "your-client-secret"

static paytrim_auth_client *new_client(const char *secret, paytrim_auth_config *config) {
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new(CLIENT_ID, secret, config, &client);
    CHECK(err == NULL && client != NULL, "client_new: %s", msg(err));
    paytrim_auth_error_free(err);
    return client;
}

/* ---- tests ---- */

static void test_versions(void) {
    CHECK(paytrim_auth_abi_version() == PAYTRIM_AUTH_ABI_VERSION, "abi %u", paytrim_auth_abi_version());
    const char *v = paytrim_auth_version();
    CHECK(v != NULL && strchr(v, '.') != NULL, "version %s", v ? v : "(null)");
}

static void test_config(void) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    CHECK(config != NULL, "config_new");
    const char *good[][2] = {
        {"tenant", "contoso.onmicrosoft.com"}, {"scope", "api://x/.default"},
        {"client_auth", "client_secret_basic"}, {"connect_timeout_ms", "1000"},
        {"timeout_ms", "2000"}, {"total_timeout_ms", "5000"}, {"max_attempts", "3"},
        {"refresh_margin_s", "60"}, {"proxy", "none"}, {"authority_host", "https://login.example.com"},
        {"token_url", "https://login.example.com/t/oauth2/v2.0/token"}, {"ca_file", ca_file},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        paytrim_auth_error *err = paytrim_auth_config_set(config, good[i][0], good[i][1]);
        CHECK(err == NULL, "set %s: %s", good[i][0], msg(err));
        paytrim_auth_error_free(err);
    }
    paytrim_auth_error *err = paytrim_auth_config_set(config, "tenant_id", "x");
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), "tenant_id"), "unknown key: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_config_set(config, "timeout_ms", "soon");
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), "timeout_ms"), "bad value: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_config_set(config, "authority_host", "http://login.example.com");
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), "http"), "plain http: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_config_set(NULL, "tenant", "x");
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), "NULL"), "NULL config: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_config_set(config, NULL, "x");
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "NULL key");
    paytrim_auth_error_free(err);
    err = paytrim_auth_config_set(config, "tenant", NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "NULL value");
    paytrim_auth_error_free(err);
    err = paytrim_auth_config_set(config, "tenant", "bad\xff\xfe");
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), "UTF-8"), "invalid UTF-8: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_config_free(config);
    paytrim_auth_config_free(NULL);
}

static void test_client_new_bad_input(void) {
    paytrim_auth_client *client = (paytrim_auth_client *)0x1;
    paytrim_auth_error *err = paytrim_auth_client_new(NULL, SECRET, NULL, &client);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && client == NULL, "NULL id: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_new(CLIENT_ID, NULL, NULL, &client);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), "client_secret"), "NULL secret: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_new("", SECRET, NULL, &client);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "empty id: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_new(CLIENT_ID, "", NULL, &client);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "empty secret: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_new("\xc3\x28", SECRET, NULL, &client);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), "UTF-8"), "bad UTF-8: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_new(CLIENT_ID, SECRET, NULL, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), "out_client"), "NULL out: %s", msg(err));
    paytrim_auth_error_free(err);
    /* NULL config means the documented defaults; creating sends nothing. */
    err = paytrim_auth_client_new(CLIENT_ID, SECRET, NULL, &client);
    CHECK(err == NULL && client != NULL, "defaults: %s", msg(err));
    paytrim_auth_client_free(client);
    paytrim_auth_client_free(NULL);
}

static void test_tokens(void) {
    paytrim_auth_config *config = emulator_config();
    paytrim_auth_client *client = new_client(SECRET, config);
    paytrim_auth_config_free(config);
    long before = token_requests();

    char *token = NULL;
    int64_t expires = 0;
    paytrim_auth_error *err = paytrim_auth_client_get_token(client, &token, &expires);
    CHECK(err == NULL && token != NULL && strlen(token) > 100, "get_token: %s", msg(err));
    paytrim_auth_error_free(err);
    long long now_ms = (long long)time(NULL) * 1000;
    CHECK(expires > now_ms + 3500 * 1000LL && expires < now_ms + 3700 * 1000LL, "expiry %lld", (long long)expires);

    char *again = NULL;
    err = paytrim_auth_client_get_token(client, &again, NULL);
    CHECK(err == NULL && same_text(token, again), "cached: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_string_free(again);
    CHECK(token_requests() == before + 1, "one request for two calls, saw %ld", token_requests() - before);

    char *json = NULL;
    err = paytrim_auth_client_get_token_json(client, &json);
    CHECK(err == NULL && has_text(json, "\"token_type\":\"Bearer\"") && has_text(json, token) &&
              has_text(json, "\"expires_in\":35"),
          "json: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_string_free(json);

    char *cached = NULL;
    err = paytrim_auth_client_get_cached_token(client, &cached, &expires);
    CHECK(err == NULL && same_text(cached, token), "cached-only: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_string_free(cached);

    char *fresh = NULL;
    err = paytrim_auth_client_refresh_token(client, &fresh, NULL);
    CHECK(err == NULL && fresh != NULL && token != NULL && !same_text(fresh, token), "refresh: %s", msg(err));
    paytrim_auth_error_free(err);
    CHECK(token_requests() == before + 2, "refresh sent one request");
    paytrim_auth_string_free(fresh);
    paytrim_auth_string_free(token);
    token = NULL;

    /* Bad arguments to the token calls. */
    err = paytrim_auth_client_get_token(NULL, &token, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && token == NULL, "NULL client: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_get_token(client, NULL, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "NULL out_token");
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_get_token_json(client, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "NULL out_json");
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_get_token_json(NULL, &json);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "NULL client json");
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_get_cached_token(NULL, &cached, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "NULL client cached");
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_refresh_token(client, NULL, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "NULL out refresh");
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_get_token_async(client, NULL, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "NULL callback");
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
}

static void test_cached_only_on_a_cold_key(void) {
    paytrim_auth_config *config = emulator_config();
    paytrim_auth_client *client = new_client(SECRET, config);
    paytrim_auth_config_free(config);
    long before = token_requests();
    char *token = (char *)0x1;
    int64_t expires = 42;
    paytrim_auth_error *err = paytrim_auth_client_get_cached_token(client, &token, &expires);
    CHECK(err == NULL && token == NULL && expires == 0, "cold cached-only: %s", msg(err));
    CHECK(token_requests() == before, "cached-only sent a request");
    paytrim_auth_client_free(client);
}

struct async_result {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    char token[4096];
    uint32_t code;
    pthread_t thread;
};

static void on_token(void *user_data, const char *token, int64_t expires, const paytrim_auth_error *error) {
    struct async_result *r = user_data;
    pthread_mutex_lock(&r->lock);
    if (token) {
        snprintf(r->token, sizeof r->token, "%s", token);
    }
    r->code = paytrim_auth_error_code(error);
    r->thread = pthread_self();
    (void)expires;
    r->done = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static void wait_result(struct async_result *r) {
    pthread_mutex_lock(&r->lock);
    while (!r->done) {
        pthread_cond_wait(&r->cond, &r->lock);
    }
    pthread_mutex_unlock(&r->lock);
}

static void test_async(void) {
    paytrim_auth_config *config = emulator_config();
    paytrim_auth_client *client = new_client(SECRET, config);
    paytrim_auth_config_free(config);
    struct async_result miss = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", 0, 0};
    paytrim_auth_error *err = paytrim_auth_client_get_token_async(client, on_token, &miss);
    CHECK(err == NULL, "async: %s", msg(err));
    wait_result(&miss);
    CHECK(miss.code == 0 && strlen(miss.token) > 100, "async miss code %u", miss.code);
    CHECK(!pthread_equal(miss.thread, pthread_self()), "a miss completes on a library thread");

    struct async_result hit = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", 0, 0};
    err = paytrim_auth_client_get_token_async(client, on_token, &hit);
    CHECK(err == NULL && hit.done, "a hit completes before get_token_async returns");
    CHECK(miss.token[0] != '\0' && same_text(hit.token, miss.token) && pthread_equal(hit.thread, pthread_self()),
          "hit inline");
    /* The non-blocking force refresh brings a new token on a library thread. */
    long before = token_requests();
    struct async_result refreshed = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", 0, 0};
    err = paytrim_auth_client_refresh_token_async(client, on_token, &refreshed);
    CHECK(err == NULL, "refresh async: %s", msg(err));
    wait_result(&refreshed);
    CHECK(refreshed.code == 0 && strlen(refreshed.token) > 100 && !same_text(refreshed.token, miss.token),
          "refresh async brought a new token (code %u)", refreshed.code);
    CHECK(token_requests() == before + 1, "refresh async sent one request");
    err = paytrim_auth_client_refresh_token_async(client, NULL, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "refresh async NULL callback");
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_refresh_token_async(NULL, on_token, &refreshed);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "refresh async NULL client");
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);

    /* An error reaches the callback too. */
    config = emulator_config();
    client = new_client("wrong-secret", config);
    paytrim_auth_config_free(config);
    struct async_result bad = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", 0, 0};
    err = paytrim_auth_client_get_token_async(client, on_token, &bad);
    CHECK(err == NULL, "async error call");
    wait_result(&bad);
    CHECK(bad.code == PAYTRIM_AUTH_ERROR_CREDENTIAL_REJECTED && bad.token[0] == '\0', "async error code %u", bad.code);
    paytrim_auth_client_free(client);
}

static void test_error_details(void) {
    paytrim_auth_config *config = emulator_config();
    paytrim_auth_client *client = new_client("wrong-secret-\xc3\xa9", config);
    paytrim_auth_config_free(config);
    char *token = NULL;
    paytrim_auth_error *err = paytrim_auth_client_get_token(client, &token, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_CREDENTIAL_REJECTED), "wrong secret: %s", msg(err));
    CHECK(token == NULL, "no token on error");
    CHECK(paytrim_auth_error_http_status(err) == 401, "status %u", paytrim_auth_error_http_status(err));
    CHECK(!paytrim_auth_error_is_retryable(err), "not retryable");
    const char *oauth = paytrim_auth_error_oauth_error(err);
    CHECK(same_text(oauth, "invalid_client"), "oauth error %s", oauth ? oauth : "(null)");
    const char *desc = paytrim_auth_error_oauth_error_description(err);
    CHECK(has_text(desc, "AADSTS7000215"), "description");
    size_t n = 0;
    const uint32_t *codes = paytrim_auth_error_aadsts_codes(err, &n);
    CHECK(n == 1 && codes && codes[0] == 7000215, "aadsts n=%zu", n);
    CHECK(paytrim_auth_error_trace_id(err) != NULL, "trace id");
    const char *corr = paytrim_auth_error_correlation_id(err);
    const char *req = paytrim_auth_error_client_request_id(err);
    CHECK(same_text(corr, req), "Entra echoes client-request-id as correlation id");
    CHECK(paytrim_auth_error_timestamp(err) != NULL, "timestamp");
    CHECK(paytrim_auth_error_retry_after_ms(err) == -1, "no retry-after");
    CHECK(strstr(msg(err), "wrong-secret") == NULL, "secret in message: %s", msg(err));
    CHECK(same_text(paytrim_auth_error_code_name(paytrim_auth_error_code(err)), "credential_rejected"), "name");
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);

    /* Throttled, with the delay. */
    config = emulator_config();
    client = new_client(SECRET, config);
    paytrim_auth_config_free(config);
    control_post("/_emulator/faults", "{\"kind\":\"status\",\"status\":429,\"retry_after\":\"120\"}");
    err = paytrim_auth_client_get_token(client, &token, NULL);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_THROTTLED), "throttled: %s", msg(err));
    CHECK(paytrim_auth_error_retry_after_ms(err) == 120000, "retry after %lld", (long long)paytrim_auth_error_retry_after_ms(err));
    CHECK(paytrim_auth_error_is_retryable(err), "throttled is retryable");
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);

    /* Getters accept NULL. */
    CHECK(paytrim_auth_error_code(NULL) == 0 && paytrim_auth_error_message(NULL) == NULL &&
              paytrim_auth_error_http_status(NULL) == 0 && paytrim_auth_error_oauth_error(NULL) == NULL &&
              paytrim_auth_error_trace_id(NULL) == NULL && paytrim_auth_error_retry_after_ms(NULL) == -1 &&
              !paytrim_auth_error_is_retryable(NULL),
          "NULL getters");
    n = 7;
    CHECK(paytrim_auth_error_aadsts_codes(NULL, &n) == NULL && n == 0, "NULL aadsts");
    CHECK(same_text(paytrim_auth_error_code_name(0), "unknown"), "code 0");
    CHECK(same_text(paytrim_auth_error_code_name(999), "unknown"), "code 999");
    paytrim_auth_error_free(NULL);
    paytrim_auth_string_free(NULL);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One fault-matrix case through the C ABI: queue `faults`, fetch once with
 * `extra_key`=`extra_value` set, and check the outcome, the requests the
 * emulator saw, the time taken and (when `want_text` is not NULL) that the
 * error message contains `want_text`. */
static void fault_case_text(const char *name, const char *faults, const char *extra_key, const char *extra_value,
                            uint32_t want_code, long want_requests, double max_ms, const char *want_text) {
    paytrim_auth_config *config = emulator_config();
    paytrim_auth_error *err = NULL;
    if (extra_key) {
        err = paytrim_auth_config_set(config, extra_key, extra_value);
        CHECK(err == NULL, "%s: %s", extra_key, msg(err));
        paytrim_auth_error_free(err);
    }
    paytrim_auth_client *client = new_client(SECRET, config);
    paytrim_auth_config_free(config);
    /* Each row starts from an empty fault queue: faults a failing row left
     * unconsumed must not decide the next row's outcome. */
    control_post("/_emulator/reset", "{}");
    control_post("/_emulator/faults", faults);
    long before = token_requests();
    double t0 = now_ms();
    char *token = NULL;
    err = paytrim_auth_client_get_token(client, &token, NULL);
    double took = now_ms() - t0;
    long requests = token_requests() - before;
    uint32_t code = paytrim_auth_error_code(err);
    printf("fault-matrix (C ABI): %-36s requests=%ld time=%6.0f ms  %s\n", name, requests, took,
           code ? paytrim_auth_error_code_name(code) : "token");
    CHECK(code == want_code, "%s: code %u, wanted %u: %s", name, code, want_code, msg(err));
    CHECK(requests == want_requests, "%s: %ld requests, wanted %ld", name, requests, want_requests);
    CHECK(took < max_ms, "%s: took %.0f ms", name, took);
    CHECK((code == 0) == (token != NULL), "%s: token iff success", name);
    if (want_text) {
        CHECK(has_text(err ? paytrim_auth_error_message(err) : NULL, want_text), "%s: the message does not name %s: %s",
              name, want_text, msg(err));
    }
    paytrim_auth_string_free(token);
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
}

static void fault_case(const char *name, const char *faults, const char *extra_key, const char *extra_value,
                       uint32_t want_code, long want_requests, double max_ms) {
    fault_case_text(name, faults, extra_key, extra_value, want_code, want_requests, max_ms, NULL);
}

static void test_fault_matrix(void) {
    /* Bounds are generous (valgrind, a loaded machine): each is far below what
     * the failure it guards against costs (a 10 s stall, a 60 s attempt
     * timeout); the request counts are the exact checks. */
    fault_case("503 twice, then success", "{\"kind\":\"status\",\"status\":503,\"count\":2}", NULL, NULL, 0, 3, 10000);
    fault_case("429 Retry-After: 1, then success", "{\"kind\":\"status\",\"status\":429,\"retry_after\":\"1\"}", NULL,
               NULL, 0, 2, 10000);
    fault_case("stall 10 s, total budget 500 ms", "{\"kind\":\"stall\",\"ms\":10000}", "total_timeout_ms", "500",
               PAYTRIM_AUTH_ERROR_NETWORK, 1, 5000);
    fault_case("connection reset, then success", "{\"kind\":\"reset\"}", NULL, NULL, 0, 2, 10000);
    fault_case("malformed JSON", "{\"kind\":\"malformed_json\"}", NULL, NULL, PAYTRIM_AUTH_ERROR_PROTOCOL, 1, 10000);
    fault_case("10 MB body", "{\"kind\":\"oversized\",\"bytes\":10485760}", NULL, NULL, PAYTRIM_AUTH_ERROR_PROTOCOL, 1,
               10000);
    fault_case("HTML 502 page, 1 attempt", "{\"kind\":\"html\",\"status\":502}", "max_attempts", "1",
               PAYTRIM_AUTH_ERROR_SERVER, 1, 10000);
    /* Retried: 408 and 504; a 429 without Retry-After (the usual backoff). */
    fault_case("408, then 504, then success",
               "[{\"kind\":\"status\",\"status\":408},{\"kind\":\"status\",\"status\":504}]", NULL, NULL, 0, 3,
               10000);
    fault_case("429 without Retry-After, then success", "{\"kind\":\"status\",\"status\":429}", NULL, NULL, 0, 2,
               10000);
    /* A name that never resolves (RFC 6761 .invalid): a network error, no request. */
    fault_case_text("unresolvable host name", "[]", "authority_host", "https://nonexistent.invalid",
                    PAYTRIM_AUTH_ERROR_NETWORK, 0, 30000, "nonexistent.invalid");
}

#define THREADS 32
static paytrim_auth_client *shared_client;
static char *thread_tokens[THREADS];
static pthread_barrier_t barrier;

static void *stampede(void *arg) {
    long i = (long)arg;
    pthread_barrier_wait(&barrier);
    paytrim_auth_error *err = paytrim_auth_client_get_token(shared_client, &thread_tokens[i], NULL);
    paytrim_auth_error_free(err);
    return NULL;
}

static void test_single_flight(void) {
    paytrim_auth_config *config = emulator_config();
    shared_client = new_client(SECRET, config);
    paytrim_auth_config_free(config);
    control_post("/_emulator/config", "{\"latency_ms\":300}");
    long before = token_requests();
    pthread_t threads[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (long i = 0; i < THREADS; i++) {
        pthread_create(&threads[i], NULL, stampede, (void *)i);
    }
    int same = 1;
    for (long i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        same = same && same_text(thread_tokens[i], thread_tokens[0]);
    }
    CHECK(same, "all threads got the same token");
    CHECK(token_requests() == before + 1, "%d threads, %ld requests", THREADS, token_requests() - before);
    for (long i = 0; i < THREADS; i++) {
        paytrim_auth_string_free(thread_tokens[i]);
    }
    pthread_barrier_destroy(&barrier);
    control_post("/_emulator/config", "{\"latency_ms\":0}");
    paytrim_auth_client_free(shared_client);
}

int main(void) {
    https_url = getenv("PAYTRIM_TEST_HTTPS");
    ca_file = getenv("PAYTRIM_TEST_CA");
    const char *http = getenv("PAYTRIM_TEST_HTTP");
    if (!https_url || !ca_file || !http || !strrchr(http, ':')) {
        fprintf(stderr, "run through tests/c/run.sh (needs PAYTRIM_TEST_HTTPS, PAYTRIM_TEST_HTTP, PAYTRIM_TEST_CA)\n");
        return 2;
    }
    control_port = atoi(strrchr(http, ':') + 1);

    test_versions();
    test_config();
    test_client_new_bad_input();
    test_tokens();
    test_cached_only_on_a_cold_key();
    test_async();
    test_error_details();
    test_single_flight();
    test_fault_matrix();

    printf("c-abi: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
