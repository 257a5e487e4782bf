/*
 * The C log callback: levels, user_data, events from library threads, the
 * PII switch, turning it off, bad levels; and never a secret or a token in
 * any line. Run by tests/c/run.sh (under valgrind) against the emulator.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>

#include "harness.h"

#define MAX_LINES 512

struct log_capture {
    pthread_mutex_t lock;
    char *lines[MAX_LINES];
    uint32_t levels[MAX_LINES];
    int count;
    int from_other_threads;
    pthread_t main_thread;
};

static struct log_capture cap = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_log(void *user_data, uint32_t level, const char *message) {
    struct log_capture *c = user_data;
    pthread_mutex_lock(&c->lock);
    if (c->count < MAX_LINES) {
        c->levels[c->count] = level;
        c->lines[c->count++] = strdup(message); /* borrowed: copy it */
    }
    if (!pthread_equal(pthread_self(), c->main_thread)) {
        c->from_other_threads++;
    }
    pthread_mutex_unlock(&c->lock);
}

static void clear_lines(void) {
    pthread_mutex_lock(&cap.lock);
    for (int i = 0; i < cap.count; i++) {
        free(cap.lines[i]);
    }
    cap.count = 0;
    cap.from_other_threads = 0;
    pthread_mutex_unlock(&cap.lock);
}

/* Index of the first line containing `needle` (at `level`, or any level if 0), or -1. */
static int find_line(const char *needle, uint32_t level) {
    pthread_mutex_lock(&cap.lock);
    int found = -1;
    for (int i = 0; i < cap.count && found < 0; i++) {
        if (strstr(cap.lines[i], needle) && (level == 0 || cap.levels[i] == level)) {
            found = i;
        }
    }
    pthread_mutex_unlock(&cap.lock);
    return found;
}

static int line_count(void) {
    pthread_mutex_lock(&cap.lock);
    int n = cap.count;
    pthread_mutex_unlock(&cap.lock);
    return n;
}

static int counter;
static char client_id[64], secret[64];

static paytrim_auth_client *client_with(const char *the_secret, const char *scope_tag) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    char scope[96];
    snprintf(scope, sizeof scope, "api://c-log-%d-%s-%d/.default", (int)getpid(), scope_tag, ++counter);
    /* connect_timeout_ms bounds TCP + TLS: under valgrind on a loaded
     * machine a handshake can take seconds, and these checks count attempts. */
    paytrim_auth_error *e[6] = {
        paytrim_auth_config_set(config, "authority_host", https_url),
        paytrim_auth_config_set(config, "tenant", "contoso.onmicrosoft.com"),
        paytrim_auth_config_set(config, "ca_file", ca_file),
        paytrim_auth_config_set(config, "scope", scope),
        paytrim_auth_config_set(config, "proxy", "none"),
        paytrim_auth_config_set(config, "connect_timeout_ms", "60000"),
    };
    for (int i = 0; i < 6; i++) {
        CHECK(e[i] == NULL, "config_set: %s", msg(e[i]));
        paytrim_auth_error_free(e[i]);
    }
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new(client_id, the_secret, config, &client);
    CHECK(err == NULL && client, "client_new: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_config_free(config);
    return client;
}

static char *get_token(paytrim_auth_client *client, paytrim_auth_error **out_err) {
    char *token = NULL;
    *out_err = paytrim_auth_client_get_token(client, &token, NULL);
    return token;
}

static void no_line_holds(const char *what, const char *needle) {
    int at = find_line(needle, 0);
    CHECK(at < 0, "a log line holds the %s: %s", what, at >= 0 ? cap.lines[at] : "");
}

static void test_bad_levels(void) {
    uint32_t bad[] = {0, 6, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        paytrim_auth_error *err = paytrim_auth_set_log_callback(bad[i], on_log, &cap);
        CHECK(err && paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT &&
                  strstr(msg(err), "level"),
              "level %u: %s", bad[i], msg(err));
        paytrim_auth_error_free(err);
    }
    /* A NULL callback ignores the level: turning logging off never fails. */
    paytrim_auth_error *err = paytrim_auth_set_log_callback(0, NULL, NULL);
    CHECK(err == NULL, "NULL callback: %s", msg(err));
    paytrim_auth_error_free(err);
}

static void test_events_and_no_secrets(void) {
    paytrim_auth_error *err = paytrim_auth_set_log_callback(PAYTRIM_AUTH_LOG_DEBUG, on_log, &cap);
    CHECK(err == NULL, "set_log_callback: %s", msg(err));
    paytrim_auth_error_free(err);

    /* Success, then a cache hit (which logs nothing). */
    paytrim_auth_client *client = client_with(secret, "ok");
    char *token = get_token(client, &err);
    CHECK(token && !err, "get_token: %s", msg(err));
    paytrim_auth_error_free(err);
    CHECK(find_line("cache miss", PAYTRIM_AUTH_LOG_DEBUG) >= 0, "no cache-miss line");
    CHECK(find_line("fetch start: attempt 1", PAYTRIM_AUTH_LOG_DEBUG) >= 0, "no fetch-start line");
    CHECK(find_line("client-request-id ", PAYTRIM_AUTH_LOG_DEBUG) >= 0, "no client-request-id");
    CHECK(find_line("fetch end: attempt 1 succeeded in ", PAYTRIM_AUTH_LOG_DEBUG) >= 0, "no fetch-end line");
    CHECK(find_line("token fetched from 127.0.0.1", PAYTRIM_AUTH_LOG_INFO) >= 0, "no fetched line");
    CHECK(cap.from_other_threads > 0, "the fetch thread's events did not arrive");
    int before_hit = line_count();
    char *again = get_token(client, &err);
    CHECK(again && !err && line_count() == before_hit, "a cache hit logged (%d -> %d)", before_hit, line_count());
    paytrim_auth_string_free(again);
    paytrim_auth_error_free(err);

    /* Retries, after two 503s. */
    paytrim_auth_client *retry = client_with(secret, "retry");
    control_post("/_emulator/faults", "{\"kind\":\"status\",\"status\":503,\"count\":2}");
    char *t2 = get_token(retry, &err);
    CHECK(t2 && !err, "retry get_token: %s", msg(err));
    paytrim_auth_error_free(err);
    CHECK(find_line("retry: attempt 1 failed (server, HTTP 503", PAYTRIM_AUTH_LOG_INFO) >= 0, "no retry line");

    /* 401, wrong secret. */
    paytrim_auth_client *wrong = client_with("c-log-wrong-secret", "wrong");
    char *t3 = get_token(wrong, &err);
    CHECK(!t3 && err && paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_CREDENTIAL_REJECTED, "401: %s", msg(err));
    paytrim_auth_error_free(err);
    CHECK(find_line("failed after 1 attempt(s)", PAYTRIM_AUTH_LOG_WARN) >= 0, "no failure line");

    no_line_holds("secret", secret);
    no_line_holds("wrong secret", "c-log-wrong-secret");
    no_line_holds("token", token);
    no_line_holds("token", t2);
    no_line_holds("client id (PII is off by default)", client_id);
    no_line_holds("tenant (PII is off by default)", "contoso");
    paytrim_auth_string_free(token);
    paytrim_auth_string_free(t2);

    /* The PII switch adds tenant and client id. */
    clear_lines();
    paytrim_auth_set_log_pii(true);
    paytrim_auth_client *pii = client_with(secret, "pii");
    char *t4 = get_token(pii, &err);
    paytrim_auth_error_free(err);
    paytrim_auth_set_log_pii(false);
    char tagged[128];
    snprintf(tagged, sizeof tagged, "[tenant contoso.onmicrosoft.com, client %s]", client_id);
    CHECK(find_line(tagged, 0) >= 0, "PII on, but no tenant/client in the lines");
    no_line_holds("secret", secret);
    no_line_holds("token", t4);
    paytrim_auth_string_free(t4);

    /* INFO drops debug events. */
    clear_lines();
    err = paytrim_auth_set_log_callback(PAYTRIM_AUTH_LOG_INFO, on_log, &cap);
    paytrim_auth_error_free(err);
    paytrim_auth_client *info = client_with(secret, "info");
    char *t5 = get_token(info, &err);
    paytrim_auth_error_free(err);
    paytrim_auth_string_free(t5);
    CHECK(find_line("token fetched", PAYTRIM_AUTH_LOG_INFO) >= 0, "no info line at INFO");
    CHECK(find_line("cache miss", 0) < 0, "a debug line at INFO");

    /* Off: nothing more arrives. */
    err = paytrim_auth_set_log_callback(PAYTRIM_AUTH_LOG_TRACE, NULL, NULL);
    paytrim_auth_error_free(err);
    clear_lines();
    paytrim_auth_client *off = client_with(secret, "off");
    char *t6 = get_token(off, &err);
    CHECK(t6 && !err, "get_token: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_string_free(t6);
    CHECK(line_count() == 0, "%d lines after the callback was removed", line_count());

    paytrim_auth_client_free(client);
    paytrim_auth_client_free(retry);
    paytrim_auth_client_free(wrong);
    paytrim_auth_client_free(pii);
    paytrim_auth_client_free(info);
    paytrim_auth_client_free(off);
}

int main(void) {
    harness_init();
    cap.main_thread = pthread_self();
    snprintf(client_id, sizeof client_id, "c-log-client-%d", (int)getpid());
    snprintf(secret, sizeof secret, "c-log-secret-%d-Zq9", (int)getpid());
    char body[256];
    snprintf(body, sizeof body, "{\"client_id\":\"%s\",\"client_secret\":\"%s\"}", client_id, secret);
    control_post("/_emulator/clients", body);

    test_bad_levels();
    test_events_and_no_secrets();
    clear_lines();

    printf("c-log: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
