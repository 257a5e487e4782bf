/*
 * C ABI test of paytrim_auth_client_new_managed_identity against the
 * emulator's IMDS and App Service endpoints: bad input, system- and
 * user-assigned identities, the App Service header, IMDS 410 then success,
 * IMDS not there, and 64 threads on a cold key making one request. Built with
 * -Wall -Wextra -Werror and run under valgrind by tests/c/run.sh, after
 * test_ffi, with PAYTRIM_TEST_HTTP = http://127.0.0.1:PORT (the emulator's
 * plain listener, which serves both endpoints and the control API).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "paytrim_auth.h"

static int passed, failed;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (cond) {                                                         \
            passed++;                                                       \
        } else {                                                            \
            failed++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
        }                                                                   \
    } while (0)

static const char *http_url;
static int control_port;

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

static void control_post(const char *path, const char *body) {
    free(control("POST", path, body));
}

/* Requests the managed-identity endpoints received so far. */
static long mi_requests(void) {
    char *resp = control("GET", "/_emulator/managed_identity", NULL);
    const char *p = strstr(resp, "\"requests\":");
    long n = p ? strtol(p + strlen("\"requests\":"), NULL, 10) : -1;
    free(resp);
    return n;
}

/* Whether the last recorded request (the last object of the JSON array
 * /_emulator/requests returns) contains `needle`. */
static int last_request_contains(const char *needle) {
    char *resp = control("GET", "/_emulator/requests", NULL);
    char *body = strstr(resp, "\r\n\r\n");
    char *last = NULL;
    int depth = 0, in_string = 0;
    for (char *p = body; p && *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1]) {
                p++;
            } else if (*p == '"') {
                in_string = 0;
            }
        } else if (*p == '"') {
            in_string = 1;
        } else if (*p == '{' || *p == '[') {
            if (*p == '{' && depth == 1) {
                last = p;
            }
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
        }
    }
    int found = last && strstr(last, needle) != NULL;
    free(resp);
    return found;
}

static const char *msg(paytrim_auth_error *err) {
    return err ? paytrim_auth_error_message(err) : "(no error)";
}

static int counter;

/* Unique resource per call, so each test has its own cache key. */
static paytrim_auth_config *mi_config(const char *endpoint_key, const char *endpoint) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    char scope[96];
    snprintf(scope, sizeof scope, "api://c-mi-%d-%d/.default", (int)getpid(), ++counter);
    paytrim_auth_error *e1 = paytrim_auth_config_set(config, endpoint_key, endpoint);
    paytrim_auth_error *e2 = paytrim_auth_config_set(config, "scope", scope);
    paytrim_auth_error *e3 = paytrim_auth_config_set(config, "proxy", "none");
    CHECK(!e1 && !e2 && !e3, "config_set: %s %s %s", msg(e1), msg(e2), msg(e3));
    paytrim_auth_error_free(e1);
    paytrim_auth_error_free(e2);
    paytrim_auth_error_free(e3);
    return config;
}

static paytrim_auth_config *imds_config(void) {
    return mi_config("imds_endpoint", http_url);
}

static paytrim_auth_config *app_service_config(const char *header) {
    char endpoint[256];
    snprintf(endpoint, sizeof endpoint, "%s/msi/token", http_url);
    paytrim_auth_config *config = mi_config("identity_endpoint", endpoint);
    paytrim_auth_error *e = paytrim_auth_config_set(config, "identity_header", header);
    CHECK(e == NULL, "identity_header: %s", msg(e));
    paytrim_auth_error_free(e);
    return config;
}

/* Gets one token; returns the error code (0 on success) and frees everything. */
static uint32_t get_token(const char *identity, paytrim_auth_config *config, const char *must_contain) {
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new_managed_identity(identity, config, &client);
    CHECK(err == NULL && client != NULL, "new_managed_identity(%s): %s", identity ? identity : "NULL", msg(err));
    paytrim_auth_error_free(err);
    char *token = NULL;
    int64_t expires = 0;
    err = paytrim_auth_client_get_token(client, &token, &expires);
    uint32_t code = paytrim_auth_error_code(err);
    if (must_contain) {
        CHECK(err && strstr(paytrim_auth_error_message(err), must_contain), "wanted '%s' in: %s", must_contain,
              msg(err));
    }
    CHECK((err == NULL) == (token != NULL && expires > 0), "token xor error");
    paytrim_auth_string_free(token);
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
    return code;
}

static void test_bad_input(void) {
    paytrim_auth_config *config = imds_config();
    paytrim_auth_error *err = paytrim_auth_client_new_managed_identity("system", config, NULL);
    CHECK(paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "NULL out: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_client *client = (paytrim_auth_client *)1;
    err = paytrim_auth_client_new_managed_identity("client_id:not-a-guid", config, &client);
    CHECK(client == NULL, "out cleared on error");
    CHECK(err && strstr(msg(err), "not a GUID"), "%s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_new_managed_identity("whoever", config, &client);
    CHECK(paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "%s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_new_managed_identity("\xff\xfe", config, &client);
    CHECK(paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "bad UTF-8: %s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_config_set(config, "scope", "https://a.example/.default https://b.example/.default");
    paytrim_auth_error_free(err);
    err = paytrim_auth_client_new_managed_identity(NULL, config, &client);
    CHECK(err && strstr(msg(err), "exactly one resource"), "%s", msg(err));
    paytrim_auth_error_free(err);
    err = paytrim_auth_config_set(config, "imds_endpoint", "http://10.0.0.4");
    CHECK(paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT && strstr(msg(err), "plain http"),
          "%s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_config_free(config);
    CHECK(mi_requests() == 0, "bad input sends nothing");
}

/* The environment factory with PAYTRIM_MANAGED_IDENTITY and IMDS_ENDPOINT,
 * as a VM would set them. Runs first, before any library thread exists, so
 * changing the environment races with nothing. */
static void test_from_environment(void) {
    char scope[96];
    snprintf(scope, sizeof scope, "api://c-mi-env-%d/.default", (int)getpid());
    setenv("PAYTRIM_MANAGED_IDENTITY", "system", 1);
    setenv("IMDS_ENDPOINT", http_url, 1);
    setenv("PAYTRIM_SCOPE", scope, 1);
    long before = mi_requests();
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new_from_environment(NULL, &client);
    CHECK(err == NULL && client != NULL, "from_environment: %s", msg(err));
    paytrim_auth_error_free(err);
    char *token = NULL;
    err = paytrim_auth_client_get_token(client, &token, NULL);
    CHECK(err == NULL && token != NULL, "token: %s", msg(err));
    CHECK(mi_requests() == before + 1, "one IMDS request");
    CHECK(last_request_contains("\"metadata\":\"true\""), "IMDS chosen by IMDS_ENDPOINT");
    paytrim_auth_string_free(token);
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
    setenv("PAYTRIM_MANAGED_IDENTITY", "sys", 1);
    err = paytrim_auth_client_new_from_environment(NULL, &client);
    CHECK(paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT &&
              strstr(msg(err), "PAYTRIM_MANAGED_IDENTITY"),
          "bad value names the variable: %s", msg(err));
    paytrim_auth_error_free(err);
    unsetenv("PAYTRIM_MANAGED_IDENTITY");
    unsetenv("IMDS_ENDPOINT");
    unsetenv("PAYTRIM_SCOPE");
}

static void test_imds_system_and_user_assigned(void) {
    paytrim_auth_config *config = imds_config();
    long before = mi_requests();
    CHECK(get_token(NULL, config, NULL) == 0, "system-assigned (NULL identity)");
    CHECK(last_request_contains("\"metadata\":\"true\""), "Metadata: true sent");
    CHECK(get_token("system", config, NULL) == 0, "system-assigned by name, cached");
    CHECK(mi_requests() == before + 1, "one request for two clients of one key: %ld", mi_requests() - before);
    control_post("/_emulator/managed_identity",
                 "{\"user_assigned\":{\"client_id\":\"3f2d1c0b-5a4e-4d3c-8b2a-1f0e9d8c7b6a\"}}");
    CHECK(get_token("client_id:3f2d1c0b-5a4e-4d3c-8b2a-1f0e9d8c7b6a", config, NULL) == 0, "user-assigned");
    CHECK(last_request_contains("\"client_id\":\"3f2d1c0b-5a4e-4d3c-8b2a-1f0e9d8c7b6a\""), "client_id sent");
    CHECK(get_token("11111111-2222-4333-8444-555555555555", config, "Identity not found") ==
              PAYTRIM_AUTH_ERROR_CREDENTIAL_REJECTED,
          "unknown user-assigned identity");
    paytrim_auth_config_free(config);
}

static void test_app_service(void) {
    paytrim_auth_config *config = app_service_config("emulator-identity-header");
    CHECK(get_token(NULL, config, NULL) == 0, "App Service");
    CHECK(last_request_contains("\"x-identity-header\":\"emulator-identity-header\""), "header sent");
    paytrim_auth_config_free(config);
    config = app_service_config("stale");
    CHECK(get_token(NULL, config, "IDENTITY_HEADER") == PAYTRIM_AUTH_ERROR_CREDENTIAL_REJECTED, "wrong header");
    paytrim_auth_config_free(config);
}

static void test_imds_410_then_success(void) {
    paytrim_auth_config *config = imds_config();
    paytrim_auth_error *e1 = paytrim_auth_config_set(config, "max_attempts", "1");
    paytrim_auth_error *e2 = paytrim_auth_config_set(config, "imds_upgrade_window_ms", "30000");
    CHECK(!e1 && !e2, "config");
    paytrim_auth_error_free(e1);
    paytrim_auth_error_free(e2);
    control_post("/_emulator/faults", "{\"kind\":\"status\",\"status\":410,\"count\":3}");
    long before = mi_requests();
    CHECK(get_token(NULL, config, NULL) == 0, "success after 3 x 410 with max_attempts 1");
    CHECK(mi_requests() == before + 4, "requests: %ld", mi_requests() - before);
    paytrim_auth_config_free(config);
}

static void test_imds_not_there(void) {
    paytrim_auth_config *config = mi_config("imds_endpoint", "http://127.0.0.1:1");
    paytrim_auth_error *e = paytrim_auth_config_set(config, "total_timeout_ms", "5000");
    paytrim_auth_error_free(e);
    CHECK(get_token(NULL, config, "connection refused") == PAYTRIM_AUTH_ERROR_NETWORK, "IMDS not there");
    paytrim_auth_config_free(config);
}

#define HERD 64
static paytrim_auth_client *herd_clients[HERD];
static char *herd_tokens[HERD];
static pthread_barrier_t barrier;

static void *herd_member(void *arg) {
    long i = (long)arg;
    pthread_barrier_wait(&barrier);
    paytrim_auth_error_free(paytrim_auth_client_get_token(herd_clients[i], &herd_tokens[i], NULL));
    return NULL;
}

static void test_herd_on_a_cold_key(void) {
    paytrim_auth_config *config = imds_config();
    for (long i = 0; i < HERD; i++) {
        paytrim_auth_error_free(paytrim_auth_client_new_managed_identity("system", config, &herd_clients[i]));
    }
    paytrim_auth_config_free(config);
    control_post("/_emulator/config", "{\"latency_ms\":300}");
    long before = mi_requests();
    pthread_t threads[HERD];
    pthread_barrier_init(&barrier, NULL, HERD);
    for (long i = 0; i < HERD; i++) {
        pthread_create(&threads[i], NULL, herd_member, (void *)i);
    }
    int same = 1;
    for (long i = 0; i < HERD; i++) {
        pthread_join(threads[i], NULL);
        same = same && herd_tokens[i] && strcmp(herd_tokens[i], herd_tokens[0]) == 0;
    }
    CHECK(same, "all %d callers got the same token", HERD);
    CHECK(mi_requests() == before + 1, "%d callers, %ld requests", HERD, mi_requests() - before);
    for (long i = 0; i < HERD; i++) {
        paytrim_auth_string_free(herd_tokens[i]);
        paytrim_auth_client_free(herd_clients[i]);
    }
    pthread_barrier_destroy(&barrier);
    control_post("/_emulator/config", "{\"latency_ms\":0}");
}

int main(void) {
    http_url = getenv("PAYTRIM_TEST_HTTP");
    if (!http_url || !strrchr(http_url, ':')) {
        fprintf(stderr, "run through tests/c/run.sh (needs PAYTRIM_TEST_HTTP)\n");
        return 2;
    }
    control_port = atoi(strrchr(http_url, ':') + 1);
    control_post("/_emulator/reset", "");

    test_bad_input();
    test_from_environment();
    test_imds_system_and_user_assigned();
    test_app_service();
    test_imds_410_then_success();
    test_imds_not_there();
    test_herd_on_a_cold_key();

    printf("c-managed-identity: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
