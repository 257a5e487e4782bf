/*
 * Per-call scopes through the C ABI: paytrim_auth_client_*_for_scopes
 * (blocking, cached-only, refresh, callback and notifier forms). One client
 * asks for several scope sets; each has its own cache entry, the configured
 * scope stays the default, and bad scope lists are refused with a clear
 * error. Run under valgrind by tests/c/run.sh against the emulator.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>

#include "harness.h"

static int is_code(const paytrim_auth_error *err, uint32_t code) {
    return err != NULL && paytrim_auth_error_code(err) == code;
}

/* Whether any recorded request so far contains `needle`. */
static int requests_contain(const char *needle) {
    char *resp = control("GET", "/_emulator/requests", NULL);
    int found = strstr(resp, needle) != NULL;
    free(resp);
    return found;
}

static char scope_a[96], scope_b[96], configured[96];

static paytrim_auth_client *new_client(void) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    paytrim_auth_error *e1 = paytrim_auth_config_set(config, "authority_host", https_url);
    paytrim_auth_error *e2 = paytrim_auth_config_set(config, "tenant", "contoso.onmicrosoft.com");
    paytrim_auth_error *e3 = paytrim_auth_config_set(config, "ca_file", ca_file);
    paytrim_auth_error *e4 = paytrim_auth_config_set(config, "scope", configured);
    CHECK(!e1 && !e2 && !e3 && !e4, "config_set: %s %s %s %s", msg(e1), msg(e2), msg(e3), msg(e4));
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err =
        paytrim_auth_client_new("11111111-1111-1111-1111-111111111111", "your-client-secret", config, &client);
    CHECK(err == NULL && client != NULL, "client_new: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_config_free(config);
    return client;
}

/* A token for `scopes` (NULL: the configured ones); the caller frees it. */
static char *token_for(paytrim_auth_client *client, const char *scopes) {
    char *token = NULL;
    int64_t expires = 0;
    paytrim_auth_error *err = scopes ? paytrim_auth_client_get_token_for_scopes(client, scopes, &token, &expires)
                                     : paytrim_auth_client_get_token(client, &token, &expires);
    CHECK(err == NULL && token != NULL && expires > 0, "token for %s: %s", scopes ? scopes : "(default)", msg(err));
    paytrim_auth_error_free(err);
    return token;
}

static void test_scope_sets_have_their_own_entries(void) {
    paytrim_auth_client *client = new_client();
    long before = token_requests();
    char *d = token_for(client, NULL);
    char *a = token_for(client, scope_a);
    CHECK(requests_contain(scope_a), "the request named %s", scope_a);
    char *b = token_for(client, scope_b);
    CHECK(token_requests() == before + 3, "one request per scope set: %ld", token_requests() - before);
    CHECK(d && a && b && strcmp(d, a) != 0 && strcmp(a, b) != 0 && strcmp(d, b) != 0, "three distinct tokens");
    for (int i = 0; i < 20; i++) {
        char *a2 = token_for(client, scope_a);
        char *d2 = token_for(client, NULL);
        char *d3 = token_for(client, configured); /* the configured scope is the default entry */
        CHECK(a2 && d2 && d3 && strcmp(a2, a) == 0 && strcmp(d2, d) == 0 && strcmp(d3, d) == 0, "cache hits");
        paytrim_auth_string_free(a2);
        paytrim_auth_string_free(d2);
        paytrim_auth_string_free(d3);
    }
    CHECK(token_requests() == before + 3, "hits sent no request");

    /* Cached-only: a hit for a known set, nothing for an unknown one. */
    char *cached = NULL;
    int64_t expires = 0;
    paytrim_auth_error *err = paytrim_auth_client_get_cached_token_for_scopes(client, scope_b, &cached, &expires);
    CHECK(err == NULL && cached && strcmp(cached, b) == 0 && expires > 0, "cached hit: %s", msg(err));
    paytrim_auth_string_free(cached);
    cached = (char *)1;
    err = paytrim_auth_client_get_cached_token_for_scopes(client, "api://never-asked/.default", &cached, &expires);
    CHECK(err == NULL && cached == NULL && expires == 0, "cached miss: %s", msg(err));

    /* Refresh drops that set's token only. */
    char *fresh = NULL;
    err = paytrim_auth_client_refresh_token_for_scopes(client, scope_a, &fresh, &expires);
    CHECK(err == NULL && fresh && strcmp(fresh, a) != 0, "refresh: %s", msg(err));
    char *d4 = token_for(client, NULL);
    CHECK(d4 && strcmp(d4, d) == 0, "the default entry kept its token");
    CHECK(token_requests() == before + 4, "refresh sent one request");
    paytrim_auth_string_free(d4);
    paytrim_auth_string_free(fresh);
    paytrim_auth_string_free(d);
    paytrim_auth_string_free(a);
    paytrim_auth_string_free(b);
    paytrim_auth_client_free(client);
}

struct async_result {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    char token[4096];
    uint32_t code;
};

static void on_token(void *user_data, const char *token, int64_t expires, const paytrim_auth_error *error) {
    struct async_result *r = user_data;
    pthread_mutex_lock(&r->lock);
    if (token) {
        snprintf(r->token, sizeof r->token, "%s", token);
    }
    r->code = paytrim_auth_error_code(error);
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

static void test_async_and_notify(void) {
    paytrim_auth_client *client = new_client();
    char scope[128];
    snprintf(scope, sizeof scope, "api://c-scopes-async-%d/.default", (int)getpid());
    long before = token_requests();
    struct async_result miss = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", 0};
    paytrim_auth_error *err = paytrim_auth_client_get_token_for_scopes_async(client, scope, on_token, &miss);
    CHECK(err == NULL, "async: %s", msg(err));
    wait_result(&miss);
    CHECK(miss.code == 0 && strlen(miss.token) > 100 && requests_contain(scope), "async miss %u", miss.code);
    char *blocking = token_for(client, scope);
    CHECK(blocking && strcmp(blocking, miss.token) == 0, "the async token is that set's cached token");
    paytrim_auth_string_free(blocking);
    struct async_result refreshed = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", 0};
    err = paytrim_auth_client_refresh_token_for_scopes_async(client, scope, on_token, &refreshed);
    CHECK(err == NULL, "refresh async: %s", msg(err));
    wait_result(&refreshed);
    CHECK(refreshed.code == 0 && strcmp(refreshed.token, miss.token) != 0, "refresh async: a new token");
    CHECK(token_requests() == before + 2, "two requests");
    struct async_result never = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", 0};
    err = paytrim_auth_client_get_token_for_scopes_async(client, "", on_token, &never);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && !never.done, "async with no scope: %s", msg(err));
    paytrim_auth_error_free(err);

    /* Notifier form. */
    uint64_t notifier = 0;
    int32_t fd = -1;
    err = paytrim_auth_notifier_new(&notifier, &fd);
    CHECK(err == NULL && notifier && fd >= 0, "notifier_new: %s", msg(err));
    char other[128];
    snprintf(other, sizeof other, "api://c-scopes-notify-%d/.default", (int)getpid());
    err = paytrim_auth_client_get_token_for_scopes_notify(client, other, notifier, 7);
    CHECK(err == NULL, "notify: %s", msg(err));
    uint64_t request = 0;
    char *token = NULL;
    int64_t expires = 0;
    paytrim_auth_error *failure = NULL;
    for (int i = 0; i < 200 && request == 0; i++) {
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 50);
        err = paytrim_auth_notifier_next(notifier, &request, &token, &expires, &failure);
        CHECK(err == NULL, "notifier_next: %s", msg(err));
    }
    CHECK(request == 7 && token && !failure && requests_contain(other), "notify result %llu",
          (unsigned long long)request);
    char *again = token_for(client, other);
    CHECK(again && token && strcmp(again, token) == 0, "the notified token is that set's cached token");
    paytrim_auth_string_free(again);
    paytrim_auth_string_free(token);
    paytrim_auth_error_free(failure);
    err = paytrim_auth_client_refresh_token_for_scopes_notify(client, "a\tb\x01", notifier, 8);
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT), "notify bad scopes: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_notifier_free(notifier);
    close(fd);
    paytrim_auth_client_free(client);
}

static void expect_invalid(paytrim_auth_error *err, const char *needle, const char *what) {
    CHECK(is_code(err, PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT) && strstr(msg(err), needle), "%s: %s", what, msg(err));
    paytrim_auth_error_free(err);
}

static void test_bad_inputs(void) {
    paytrim_auth_client *client = new_client();
    char *token = (char *)1;
    int64_t expires = 5;
    expect_invalid(paytrim_auth_client_get_token_for_scopes(client, NULL, &token, &expires), "scopes is NULL",
                   "NULL scopes");
    CHECK(token == NULL && expires == 0, "outputs cleared on error");
    expect_invalid(paytrim_auth_client_get_token_for_scopes(client, "", &token, NULL), "empty", "empty scopes");
    expect_invalid(paytrim_auth_client_get_token_for_scopes(client, "   ", &token, NULL), "empty", "blank scopes");
    expect_invalid(paytrim_auth_client_get_token_for_scopes(client, "api://a/.default\n", &token, NULL),
                   "control character", "control character");
    expect_invalid(paytrim_auth_client_get_token_for_scopes(client, "api://\xff/.default", &token, NULL),
                   "UTF-8", "invalid UTF-8");
    expect_invalid(paytrim_auth_client_get_token_for_scopes(NULL, scope_a, &token, NULL), "client is NULL",
                   "NULL client");
    expect_invalid(paytrim_auth_client_get_token_for_scopes(client, scope_a, NULL, NULL), "out_token", "NULL out");
    expect_invalid(paytrim_auth_client_refresh_token_for_scopes(client, NULL, &token, NULL), "scopes", "refresh NULL");
    expect_invalid(paytrim_auth_client_get_cached_token_for_scopes(client, "", &token, NULL), "empty", "cached empty");
    expect_invalid(paytrim_auth_client_get_token_for_scopes_async(client, scope_a, NULL, NULL), "callback",
                   "async NULL callback");
    expect_invalid(paytrim_auth_client_get_token_for_scopes_notify(client, scope_a, 0, 1), "notifier",
                   "unknown notifier");
    /* A scope the server refuses: the server's answer, for that set only. */
    paytrim_auth_error *err = paytrim_auth_client_get_token_for_scopes(client, "api://no-suffix", &token, NULL);
    CHECK(err && paytrim_auth_error_oauth_error(err) && strcmp(paytrim_auth_error_oauth_error(err), "invalid_scope") == 0,
          "server-refused scope: %s", msg(err));
    paytrim_auth_error_free(err);
    char *d = token_for(client, NULL);
    paytrim_auth_string_free(d);
    paytrim_auth_client_free(client);
}

int main(void) {
    harness_init();
    snprintf(scope_a, sizeof scope_a, "api://c-scopes-a-%d/.default", (int)getpid());
    snprintf(scope_b, sizeof scope_b, "api://c-scopes-b-%d/.default api://c-scopes-b2-%d/.default", (int)getpid(),
             (int)getpid());
    snprintf(configured, sizeof configured, "api://c-scopes-default-%d/.default", (int)getpid());
    test_scope_sets_have_their_own_entries();
    test_async_and_notify();
    test_bad_inputs();
    printf("c-scopes: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
