/*
 * Runs the C rows of the shared bad-input table (tests/bad_inputs.tsv):
 * every case must answer its error code, and the message must name the
 * offending key or argument; never a crash (run under valgrind by
 * tests/c/run.sh). Usage: test_bad_inputs TABLE
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"

#define DEFAULT_ID "11111111-1111-1111-1111-111111111111"
#define DEFAULT_SECRET "your-client-secret"

/* A decoded table value: NULL for <null>, else malloc'd bytes + NUL. */
static char *decode(const char *v) {
    if (strcmp(v, "<null>") == 0) {
        return NULL;
    }
    if (strcmp(v, "<empty>") == 0) {
        return strdup("");
    }
    if (strncmp(v, "<repeat:", 8) == 0) {
        char text[64];
        long count = 0;
        const char *colon = strchr(v + 8, ':');
        size_t tl = (size_t)(colon - (v + 8));
        memcpy(text, v + 8, tl);
        text[tl] = '\0';
        count = strtol(colon + 1, NULL, 10);
        char *out = malloc(tl * (size_t)count + 1);
        for (long i = 0; i < count; i++) {
            memcpy(out + (size_t)i * tl, text, tl);
        }
        out[tl * (size_t)count] = '\0';
        return out;
    }
    if (strncmp(v, "<hex:", 5) == 0) {
        size_t n = (strlen(v) - 6) / 2;
        char *out = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            unsigned byte;
            sscanf(v + 5 + 2 * i, "%2x", &byte);
            out[i] = (char)byte;
        }
        out[n] = '\0';
        return out;
    }
    /* Literal, with \n for a newline. */
    char *out = malloc(strlen(v) + 1), *o = out;
    for (const char *p = v; *p; p++) {
        if (p[0] == '\\' && p[1] == 'n') {
            *o++ = '\n';
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static int runs_in_c(const char *langs) {
    if (strcmp(langs, "all") == 0) {
        return 1;
    }
    char copy[128];
    snprintf(copy, sizeof copy, "%s", langs);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (strcmp(w, "c") == 0) {
            return 1;
        }
    }
    return 0;
}

static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int cases_run;

/* Checks an error against the row: code invalid_argument, message names `names`. */
static void expect(const char *id, paytrim_auth_error *err, const char *code, const char *names) {
    cases_run++;
    if (strcmp(code, "none") == 0) {
        CHECK(err == NULL, "%s: unexpected error %s", id, msg(err));
    } else {
        CHECK(err && paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_INVALID_ARGUMENT, "%s: wanted %s, got %s", id,
              code, msg(err));
        CHECK(err && contains_ci(msg(err), names), "%s: the message does not name '%s': %s", id, names, msg(err));
        /* The message is bounded: a 1 MB input is not echoed back whole. */
        CHECK(err && strlen(msg(err)) < 4096, "%s: a %zu-byte message", id, err ? strlen(msg(err)) : 0);
    }
    paytrim_auth_error_free(err);
}

static void run_config_set(const char *id, const char *arg, const char *value, const char *code, const char *names) {
    char *key = decode(arg), *val = decode(value);
    paytrim_auth_config *config = paytrim_auth_config_new();
    paytrim_auth_error *err = paytrim_auth_config_set(config, key, val);
    expect(id, err, code, names);
    /* The configuration is unchanged and still usable. */
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *e2 = paytrim_auth_client_new(DEFAULT_ID, DEFAULT_SECRET, config, &client);
    CHECK(e2 == NULL && client, "%s: the config is unusable after the refusal: %s", id, msg(e2));
    paytrim_auth_error_free(e2);
    paytrim_auth_client_free(client);
    paytrim_auth_config_free(config);
    free(key);
    free(val);
}

static void run_client_new(const char *id, const char *arg, const char *value, const char *code, const char *names) {
    char *val = decode(value);
    int is_id = strcmp(arg, "client_id") == 0;
    paytrim_auth_client *client = (paytrim_auth_client *)0x1; /* must be cleared */
    paytrim_auth_error *err = paytrim_auth_client_new(is_id ? val : DEFAULT_ID, is_id ? DEFAULT_SECRET : val, NULL,
                                                      &client);
    CHECK(client == NULL, "%s: out_client not cleared on error", id);
    expect(id, err, code, names);
    free(val);
}

/* A token for the scopes `value` names (per-call scopes), from a client whose configured
 * scope is valid: refused before any request, and the client still works afterwards. */
static void run_token_for_scopes(const char *id, const char *value, const char *code, const char *names) {
    char *scopes = decode(value);
    paytrim_auth_client *client = NULL;
    paytrim_auth_error_free(paytrim_auth_client_new(DEFAULT_ID, DEFAULT_SECRET, NULL, &client));
    char *token = (char *)0x1; /* must be cleared */
    int64_t expires = 7;
    paytrim_auth_error *err = paytrim_auth_client_get_token_for_scopes(client, scopes, &token, &expires);
    CHECK(token == NULL && expires == 0, "%s: outputs not cleared on error", id);
    expect(id, err, code, names);
    paytrim_auth_client_free(client);
    free(scopes);
}

static void on_token_ignored(void *user_data, const char *token, int64_t expires, const paytrim_auth_error *error) {
    (void)user_data, (void)token, (void)expires, (void)error;
}

static void run_c_null(const char *id, const char *arg, const char *code, const char *names) {
    paytrim_auth_error *err = NULL;
    paytrim_auth_config *config = paytrim_auth_config_new();
    paytrim_auth_client *client = NULL;
    paytrim_auth_error_free(paytrim_auth_client_new(DEFAULT_ID, DEFAULT_SECRET, NULL, &client));
    char *token = NULL;
    if (strcmp(arg, "config_set:config") == 0) {
        err = paytrim_auth_config_set(NULL, "tenant", "contoso");
    } else if (strcmp(arg, "config_set:key") == 0) {
        err = paytrim_auth_config_set(config, NULL, "contoso");
    } else if (strcmp(arg, "client_new:out_client") == 0) {
        err = paytrim_auth_client_new(DEFAULT_ID, DEFAULT_SECRET, NULL, NULL);
    } else if (strcmp(arg, "get_token:client") == 0) {
        err = paytrim_auth_client_get_token(NULL, &token, NULL);
    } else if (strcmp(arg, "get_token:out_token") == 0) {
        err = paytrim_auth_client_get_token(client, NULL, NULL);
    } else if (strcmp(arg, "get_token_async:callback") == 0) {
        err = paytrim_auth_client_get_token_async(client, NULL, NULL);
    } else if (strcmp(arg, "get_token_for_scopes:client") == 0) {
        err = paytrim_auth_client_get_token_for_scopes(NULL, "api://x/.default", &token, NULL);
    } else if (strcmp(arg, "get_token_for_scopes:scopes") == 0) {
        err = paytrim_auth_client_get_token_for_scopes(client, NULL, &token, NULL);
    } else if (strcmp(arg, "get_token_for_scopes:out_token") == 0) {
        err = paytrim_auth_client_get_token_for_scopes(client, "api://x/.default", NULL, NULL);
    } else {
        CHECK(0, "%s: unknown c_null function:argument %s", id, arg);
    }
    (void)on_token_ignored;
    expect(id, err, code, names);
    CHECK(token == NULL, "%s: out_token written", id);
    paytrim_auth_client_free(client);
    paytrim_auth_config_free(config);
}

/* close_during_fetch: an async fetch against a stalling server, and the
 * client freed at once; the callback still runs exactly once, with a token.
 *
 * "Exactly once" without a sleep: no event marks the moment the library is
 * done with a callback, so the test does what the header allows a caller to
 * do: `user_data` only has to live until the callback runs, so it is freed as
 * soon as the first call is seen. A second call into it is then a
 * use-after-free that valgrind (tests/c/run.sh) reports and fails the run on,
 * whenever it happens before exit; and every call, first or later, is also
 * counted in `close_during_fetch_calls`, checked once more at the end of main
 * after the remaining rows have run. */
struct async_once {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    int got_token;
    char error[512];
};

static _Atomic int close_during_fetch_calls, close_during_fetch_runs;

static void on_token(void *user_data, const char *token, int64_t expires, const paytrim_auth_error *error) {
    close_during_fetch_calls++;
    struct async_once *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->calls++;
    r->got_token = token != NULL && expires > 0;
    if (error) {
        snprintf(r->error, sizeof r->error, "%s", paytrim_auth_error_message(error));
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static void run_close_during_fetch(const char *id) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    char scope[96];
    snprintf(scope, sizeof scope, "api://bad-inputs-%d/.default", (int)getpid());
    paytrim_auth_error_free(paytrim_auth_config_set(config, "authority_host", https_url));
    paytrim_auth_error_free(paytrim_auth_config_set(config, "tenant", "contoso.onmicrosoft.com"));
    paytrim_auth_error_free(paytrim_auth_config_set(config, "ca_file", ca_file));
    paytrim_auth_error_free(paytrim_auth_config_set(config, "scope", scope));
    paytrim_auth_error_free(paytrim_auth_config_set(config, "proxy", "none"));
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new(DEFAULT_ID, DEFAULT_SECRET, config, &client);
    CHECK(err == NULL, "%s: client_new: %s", id, msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_config_free(config);
    control_post("/_emulator/faults", "{\"kind\":\"stall\",\"ms\":700}");
    struct async_once *r = calloc(1, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    close_during_fetch_runs++;
    err = paytrim_auth_client_get_token_async(client, on_token, r);
    paytrim_auth_client_free(client); /* during the fetch */
    cases_run++;
    CHECK(err == NULL, "%s: get_token_async: %s", id, msg(err));
    int called = err == NULL;
    paytrim_auth_error_free(err);
    if (!called) {
        /* No callback will come: r stays ours. */
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        free(r);
        return;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&r->lock);
    while (r->calls == 0 && pthread_cond_timedwait(&r->cond, &r->lock, &deadline) == 0) {
    }
    int calls = r->calls, got_token = r->got_token;
    char error[sizeof r->error];
    snprintf(error, sizeof error, "%s", r->error);
    pthread_mutex_unlock(&r->lock);
    CHECK(calls == 1, "%s: the callback ran %d times", id, calls);
    CHECK(got_token, "%s: no token after close during the fetch: %s", id, error);
    if (calls == 0) {
        return; /* the library may still call: leak r rather than free it under a pending callback */
    }
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_bad_inputs tests/bad_inputs.tsv\n");
        return 2;
    }
    harness_init();
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char line[4096];
    int header_seen = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        char *cols[7] = {0};
        int n = 0;
        for (char *p = line; n < 7; n++) {
            cols[n] = p;
            char *tab = strchr(p, '\t');
            if (!tab) {
                n++;
                break;
            }
            *tab = '\0';
            p = tab + 1;
        }
        if (n != 7) {
            CHECK(0, "malformed row (%d columns): %s", n, cols[0]);
            continue;
        }
        if (!header_seen) {
            header_seen = 1;
            continue;
        }
        const char *id = cols[0], *op = cols[1], *arg = cols[2], *value = cols[3], *code = cols[4],
                   *names = cols[5];
        if (!runs_in_c(cols[6])) {
            continue;
        }
        if (strcmp(op, "config_set") == 0) {
            run_config_set(id, arg, value, code, names);
        } else if (strcmp(op, "client_new") == 0) {
            run_client_new(id, arg, value, code, names);
        } else if (strcmp(op, "c_null") == 0) {
            run_c_null(id, arg, code, names);
        } else if (strcmp(op, "token_for_scopes") == 0) {
            run_token_for_scopes(id, value, code, names);
        } else if (strcmp(op, "lifecycle") == 0 && strcmp(arg, "close_during_fetch") == 0) {
            run_close_during_fetch(id);
        } else {
            CHECK(0, "%s: no C runner for %s %s", id, op, arg);
        }
    }
    fclose(f);
    CHECK(cases_run >= 40, "only %d cases ran", cases_run);
    CHECK(close_during_fetch_calls == close_during_fetch_runs, "close during fetch: %d callbacks for %d calls",
          (int)close_during_fetch_calls, (int)close_during_fetch_runs);
    printf("c-bad-inputs: %d cases, %d checks passed, %d failed\n", cases_run, passed, failed);
    return failed == 0 ? 0 : 1;
}
