/*
 * Soak test through the C ABI: THREADS threads on two cache keys, tokens that
 * expire every second, ~10% of token requests answered with an injected fault
 * (500, 503, 300 ms stall, TCP reset, malformed JSON), optionally a fork every
 * few seconds whose child must get a valid token too, and resident memory
 * sampled once a second.
 *
 * Asserts: no crash or hang, no wrong token (audience and appid are checked
 * against the key asked for) and no expired token (against the library's
 * expiry and the emulator's `exp` claim), requests close to one per refresh,
 * RSS flat. Prints one `soak:` summary line.
 *
 * Environment: PAYTRIM_TEST_HTTPS/HTTP/CA (from tests/c/soak.sh),
 * PAYTRIM_SOAK_SECONDS (default 60), PAYTRIM_SOAK_FORKS (default 1: fork every 3 s; 0: no forks).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

#define THREADS 8
#define KEYS 2
#define CLIENT_ID "11111111-1111-1111-1111-111111111111"
#define SECRET "your-client-secret"

static const char *audiences[KEYS] = {"api://soak-a", "api://soak-b"};
static paytrim_auth_client *clients[KEYS];
static atomic_int stop;
static atomic_long calls, ok_calls, wrong, expired, err_by_code[16];
static atomic_long refreshes_seen[KEYS];
static atomic_llong last_expiry[KEYS];
static char first_problem[512];
static pthread_mutex_t problem_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void problem(const char *fmt, const char *a, long long b) {
    pthread_mutex_lock(&problem_lock);
    if (!first_problem[0]) {
        snprintf(first_problem, sizeof first_problem, fmt, a, b);
    }
    pthread_mutex_unlock(&problem_lock);
}

/* Decodes the JWT payload (base64url) into out; returns its length or -1. */
static int jwt_payload(const char *token, char *out, size_t cap) {
    const char *p = strchr(token, '.');
    const char *q = p ? strchr(p + 1, '.') : NULL;
    if (!p || !q) {
        return -1;
    }
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *c = p + 1; c < q; c++) {
        int v;
        if (*c >= 'A' && *c <= 'Z') v = *c - 'A';
        else if (*c >= 'a' && *c <= 'z') v = *c - 'a' + 26;
        else if (*c >= '0' && *c <= '9') v = *c - '0' + 52;
        else if (*c == '-') v = 62;
        else if (*c == '_') v = 63;
        else return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap) return -1;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[n] = '\0';
    return (int)n;
}

/* The token must be for `key` and unexpired when the call began, by the
 * library's expiry and by the emulator's exp claim (whole seconds, so one
 * second of rounding). `asked_ms` is read before the call: a thread descheduled
 * after the call returned must not make a token the library checked in time
 * look expired (1-s tokens, a loaded machine). Both clocks are whole ms, so only
 * `asked_ms > expires_ms` is certainly late. */
static int check_token(int key, const char *token, int64_t expires_ms, int64_t asked_ms) {
    char payload[4096], want[128];
    if (jwt_payload(token, payload, sizeof payload) < 0) {
        atomic_fetch_add(&wrong, 1);
        problem("not a JWT: %.40s (%lld)", token, 0);
        return 0;
    }
    snprintf(want, sizeof want, "\"aud\":\"%s\"", audiences[key]);
    if (!strstr(payload, want) || !strstr(payload, "\"appid\":\"" CLIENT_ID "\"")) {
        atomic_fetch_add(&wrong, 1);
        problem("wrong token for key %s (payload %lld)", audiences[key], 0);
        return 0;
    }
    const char *e = strstr(payload, "\"exp\":");
    long long exp = e ? strtoll(e + 6, NULL, 10) : 0;
    if (asked_ms > expires_ms || asked_ms > exp * 1000 + 1000 || expires_ms > exp * 1000 + 1000) {
        atomic_fetch_add(&expired, 1);
        problem("expired token: %s (expired %lld ms before the call)", audiences[key], (long long)(asked_ms - expires_ms));
        return 0;
    }
    /* A newer expiry than any seen before on this key: a refresh landed. */
    long long prev = atomic_load(&last_expiry[key]);
    while (expires_ms > prev) {
        if (atomic_compare_exchange_weak(&last_expiry[key], &prev, expires_ms)) {
            atomic_fetch_add(&refreshes_seen[key], 1);
            break;
        }
    }
    return 1;
}

static int one_call_verbose(int key, int verbose);
static int one_call(int key) {
    return one_call_verbose(key, 0);
}

static int one_call_verbose(int key, int verbose) {
    char *token = NULL;
    int64_t expires = 0;
    int64_t asked = now_ms();
    paytrim_auth_error *err = paytrim_auth_client_get_token(clients[key], &token, &expires);
    atomic_fetch_add(&calls, 1);
    int good = 0;
    if (err) {
        uint32_t code = paytrim_auth_error_code(err);
        if (verbose) {
            fprintf(stderr, "soak: child %d, key %s: %s\n", (int)getpid(), audiences[key], paytrim_auth_error_message(err));
        }
        atomic_fetch_add(&err_by_code[code < 16 ? code : 15], 1);
        if (code != PAYTRIM_AUTH_ERROR_NETWORK && code != PAYTRIM_AUTH_ERROR_SERVER &&
            code != PAYTRIM_AUTH_ERROR_PROTOCOL) {
            problem("unexpected error: %s (%lld)", paytrim_auth_error_message(err), code);
        }
        paytrim_auth_error_free(err);
    } else {
        good = check_token(key, token, expires, asked);
        atomic_fetch_add(&ok_calls, good);
    }
    paytrim_auth_string_free(token);
    return good;
}

static void *worker(void *arg) {
    int key = (int)(intptr_t)arg % KEYS;
    while (!atomic_load(&stop)) {
        one_call(key);
        usleep(1000);
    }
    return NULL;
}

/* Keeps injected faults at about 10% of the token requests. */
static atomic_long faults_injected;
static void *fault_injector(void *arg) {
    (void)arg;
    static const char *faults[] = {
        "{\"kind\":\"status\",\"status\":500}", "{\"kind\":\"status\",\"status\":503}",
        "{\"kind\":\"stall\",\"ms\":300}",      "{\"kind\":\"reset\"}",
        "{\"kind\":\"malformed_json\"}",
    };
    while (!atomic_load(&stop)) {
        long requests = token_requests();
        while (atomic_load(&faults_injected) < (requests + 5) / 10) {
            long n = atomic_fetch_add(&faults_injected, 1);
            control_post("/_emulator/faults", faults[n % 5]);
        }
        usleep(20 * 1000);
    }
    return NULL;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Forks; the child gets a valid token on each key within its budget. */
static int forks_ok, forks_failed, forks_hung;
static void fork_once(void) {
    pid_t pid = fork();
    if (pid == 0) {
        /* At once (a cache hit, or joining a fetch the parent had in
         * flight), then after the inherited tokens expired: fetches of the
         * child's own, on connections of its own. */
        int good = 1;
        for (int round = 0; round < 2; round++) {
            for (int k = 0; k < KEYS; k++) {
                /* Injected faults reach the child too: a fault-caused error
                 * may be retried (twice); a hang shows as the budget spent. */
                int got = 0;
                for (int attempt = 0; attempt < 3 && !got; attempt++) {
                    got = one_call_verbose(k, 1);
                }
                good &= got;
            }
            usleep(1200 * 1000);
        }
        _exit(good ? 0 : 1);
    }
    if (pid < 0) {
        forks_failed++;
        return;
    }
    for (int waited = 0; waited < 600; waited++) { /* 60 s */
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                forks_ok++;
            } else {
                forks_failed++;
                fprintf(stderr, "soak: fork child failed (status %d)\n", status);
            }
            return;
        }
        usleep(100 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    forks_hung++;
    fprintf(stderr, "soak: fork child hung for 60 s\n");
}

int main(void) {
    harness_init();
    const char *s = getenv("PAYTRIM_SOAK_SECONDS");
    int seconds = s ? atoi(s) : 60;
    int forks = !(getenv("PAYTRIM_SOAK_FORKS") && strcmp(getenv("PAYTRIM_SOAK_FORKS"), "0") == 0);
    if (seconds < 5) {
        seconds = 5;
    }
    control_post("/_emulator/config", "{\"expires_in\":1}");

    for (int k = 0; k < KEYS; k++) {
        paytrim_auth_config *config = paytrim_auth_config_new();
        char scope[96];
        snprintf(scope, sizeof scope, "%s/.default", audiences[k]);
        const char *kv[][2] = {{"authority_host", https_url}, {"tenant", "contoso.onmicrosoft.com"},
                               {"ca_file", ca_file},          {"scope", scope},
                               {"proxy", "none"},             {"timeout_ms", "2000"},
                               {"total_timeout_ms", "6000"}, {"max_attempts", "4"}};
        for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
            paytrim_auth_error *e = paytrim_auth_config_set(config, kv[i][0], kv[i][1]);
            CHECK(e == NULL, "config_set %s: %s", kv[i][0], msg(e));
            paytrim_auth_error_free(e);
        }
        paytrim_auth_error *e = paytrim_auth_client_new(CLIENT_ID, SECRET, config, &clients[k]);
        CHECK(e == NULL, "client_new: %s", msg(e));
        paytrim_auth_error_free(e);
        paytrim_auth_config_free(config);
    }
    long requests_before = token_requests();
    pthread_t threads[THREADS], injector;
    for (int i = 0; i < THREADS; i++) {
        pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i);
    }
    pthread_create(&injector, NULL, fault_injector, NULL);

    long rss_start = 0, rss_end = 0, rss_max = 0;
    int warmup = seconds / 5 > 3 ? seconds / 5 : 3;
    for (int t = 1; t <= seconds; t++) {
        sleep(1);
        long rss = rss_kb();
        if (t == warmup) {
            rss_start = rss;
        }
        if (rss > rss_max) {
            rss_max = rss;
        }
        rss_end = rss;
        if (forks && t % 3 == 0) {
            fork_once();
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_join(injector, NULL);
    long requests = token_requests() - requests_before;
    long issued = control_number("/_emulator/stats", "tokens_issued");
    long refreshes = atomic_load(&refreshes_seen[0]) + atomic_load(&refreshes_seen[1]);
    long errors = atomic_load(&calls) - atomic_load(&ok_calls) - atomic_load(&wrong) - atomic_load(&expired);

    printf("soak: %d s, %d threads, %d keys, tokens live 1 s: calls=%ld ok=%ld errors=%ld (network %ld, server %ld, "
           "protocol %ld) wrong=%ld expired=%ld; token requests=%ld tokens issued=%ld refreshes seen=%ld "
           "requests/refresh=%.2f; faults injected=%ld (%.1f%% of requests); forks=%d (ok %d, failed %d, hung %d)%s; "
           "rss start=%ld KB end=%ld KB max=%ld KB\n",
           seconds, THREADS, KEYS, atomic_load(&calls), atomic_load(&ok_calls), errors,
           atomic_load(&err_by_code[PAYTRIM_AUTH_ERROR_NETWORK]), atomic_load(&err_by_code[PAYTRIM_AUTH_ERROR_SERVER]),
           atomic_load(&err_by_code[PAYTRIM_AUTH_ERROR_PROTOCOL]), atomic_load(&wrong), atomic_load(&expired), requests,
           issued, refreshes, issued ? (double)requests / (double)issued : 0.0, atomic_load(&faults_injected),
           requests ? 100.0 * (double)atomic_load(&faults_injected) / (double)requests : 0.0,
           forks_ok + forks_failed + forks_hung, forks_ok, forks_failed, forks_hung, forks ? "" : " (forks off)",
           rss_start, rss_end, rss_max);

    CHECK(atomic_load(&wrong) == 0 && atomic_load(&expired) == 0, "wrong or expired tokens: %s", first_problem);
    CHECK(!first_problem[0], "%s", first_problem);
    CHECK(atomic_load(&ok_calls) > 0 && errors * 20 < atomic_load(&calls), "%ld errors in %ld calls", errors,
          atomic_load(&calls));
    /* Single flight: one request per token issued, plus the faulted ones and
     * their retries; never one per caller. */
    CHECK(issued > 0 && requests <= issued + 2 * atomic_load(&faults_injected) + 4,
          "%ld requests for %ld tokens and %ld faults", requests, issued, atomic_load(&faults_injected));
    /* A 1 s token is refreshed about twice a second per key; 8 callers must not multiply that. */
    int fork_count = forks_ok + forks_failed + forks_hung;
    CHECK(issued <= (long)KEYS * seconds * 3 + 10 + fork_count * KEYS * 3, "%ld tokens issued in %d s on %d keys", issued,
          seconds, KEYS);
    CHECK(refreshes >= (long)KEYS * seconds / 2, "only %ld refreshes seen in %d s", refreshes, seconds);
    CHECK(atomic_load(&faults_injected) * 100 >= requests * 7, "only %ld faults for %ld requests",
          atomic_load(&faults_injected), requests);
    CHECK(rss_end - rss_start < 8192 + rss_start / 5, "RSS grew from %ld KB to %ld KB", rss_start, rss_end);
    CHECK(forks_failed == 0 && forks_hung == 0, "%d forks failed, %d hung", forks_failed, forks_hung);

    for (int k = 0; k < KEYS; k++) {
        paytrim_auth_client_free(clients[k]);
    }
    printf("c-soak: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
