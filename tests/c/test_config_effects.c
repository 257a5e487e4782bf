/*
 * What the timing and routing keys of paytrim_auth_config_set actually do,
 * observed from C (a key read in the wrong unit fails these: each bound has a
 * floor and a ceiling far apart from the neighbouring units), and freeing a
 * client while its fetch is in flight. Run under valgrind by tests/c/run.sh,
 * which sets HTTPS_PROXY/HTTP_PROXY/ALL_PROXY to a dead proxy: every client
 * here says proxy=none, or names its own proxy.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "harness.h"

#define CLIENT_ID "11111111-1111-1111-1111-111111111111"
#define SECRET "your-client-secret"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_until(double t_ms) {
    double left;
    while ((left = t_ms - now_ms()) > 0) {
        struct timespec ts = {(time_t)(left / 1e3), (long)((left - (time_t)(left / 1e3) * 1e3) * 1e6)};
        nanosleep(&ts, NULL);
    }
}

static int counter;

/* A configuration for the emulator (unique scope: its own cache key), with
 * proxy=none and `pairs` (key, value, ..., NULL) on top. */
static paytrim_auth_config *config_with(const char *first_key, ...) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    char scope[80];
    snprintf(scope, sizeof scope, "api://c-effects-%d-%d/.default", (int)getpid(), ++counter);
    const char *base[][2] = {{"authority_host", https_url},
                             {"tenant", "contoso.onmicrosoft.com"},
                             {"ca_file", ca_file},
                             {"scope", scope},
                             {"proxy", "none"}};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        paytrim_auth_error *err = paytrim_auth_config_set(config, base[i][0], base[i][1]);
        CHECK(err == NULL, "%s: %s", base[i][0], msg(err));
        paytrim_auth_error_free(err);
    }
    va_list ap;
    va_start(ap, first_key);
    for (const char *k = first_key; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        paytrim_auth_error *err = paytrim_auth_config_set(config, k, v);
        CHECK(err == NULL, "%s=%s: %s", k, v, msg(err));
        paytrim_auth_error_free(err);
    }
    va_end(ap);
    return config;
}

static paytrim_auth_client *client_of(paytrim_auth_config *config) {
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new(CLIENT_ID, SECRET, config, &client);
    CHECK(err == NULL && client, "client_new: %s", msg(err));
    paytrim_auth_error_free(err);
    paytrim_auth_config_free(config);
    return client;
}

/* ---- a loopback listener that accepts and then either holds connections
 * silently (a TLS handshake that never completes) or plays a proxy that
 * records the request line and refuses it ---- */

struct listener {
    int fd, port, proxy;
    pthread_t thread;
    pthread_mutex_t lock;
    int accepted;
    char first_line[256];
    int held[8];
};

static void *listener_main(void *arg) {
    struct listener *l = arg;
    for (;;) {
        int c = accept(l->fd, NULL, NULL);
        if (c < 0) {
            return NULL;
        }
        pthread_mutex_lock(&l->lock);
        int n = l->accepted++;
        pthread_mutex_unlock(&l->lock);
        if (!l->proxy) {
            if (n < 8) {
                l->held[n] = c; /* held open, never a byte back */
            } else {
                close(c);
            }
            continue;
        }
        char buf[2048];
        ssize_t r = read(c, buf, sizeof buf - 1);
        if (r > 0) {
            buf[r] = '\0';
            char *eol = strstr(buf, "\r\n");
            if (eol) {
                *eol = '\0';
            }
            pthread_mutex_lock(&l->lock);
            snprintf(l->first_line, sizeof l->first_line, "%.200s", buf);
            pthread_mutex_unlock(&l->lock);
        }
        const char *no = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        if (write(c, no, strlen(no)) < 0) {
            perror("proxy write");
        }
        close(c);
    }
}

static void listener_start(struct listener *l, int proxy) {
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
    l->proxy = proxy;
    l->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(l->fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(l->fd, 16) != 0 ||
        getsockname(l->fd, (struct sockaddr *)&addr, &len) != 0) {
        perror("listener");
        exit(2);
    }
    l->port = ntohs(addr.sin_port);
    pthread_create(&l->thread, NULL, listener_main, l);
}

static void listener_stop(struct listener *l) {
    shutdown(l->fd, SHUT_RDWR);
    pthread_join(l->thread, NULL);
    close(l->fd);
    for (int i = 0; i < l->accepted && i < 8; i++) {
        if (!l->proxy) {
            close(l->held[i]);
        }
    }
    pthread_mutex_destroy(&l->lock);
}

/* connect_timeout_ms bounds TCP + TLS: a server that accepts and never
 * answers the handshake ends the (single) attempt after about 1500 ms; read
 * as seconds it would run into timeout_ms (60 s), as microseconds it would
 * end at once. */
static void test_connect_timeout(void) {
    struct listener l;
    listener_start(&l, 0);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/t/oauth2/v2.0/token", l.port);
    paytrim_auth_client *client = client_of(config_with("token_url", url, "connect_timeout_ms", "1500",
                                                        "timeout_ms", "60000", "total_timeout_ms", "120000",
                                                        "max_attempts", "1", NULL));
    char *token = NULL;
    double t0 = now_ms();
    paytrim_auth_error *err = paytrim_auth_client_get_token(client, &token, NULL);
    double took = now_ms() - t0;
    printf("config effect: connect_timeout_ms=1500 against a silent TLS server: %.0f ms\n", took);
    CHECK(paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_NETWORK && strstr(msg(err), "1500 ms"), "%s", msg(err));
    CHECK(took >= 1400 && took < 20000, "connect_timeout_ms=1500 took %.0f ms", took);
    CHECK(l.accepted == 1, "accepted %d", l.accepted);
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
    listener_stop(&l);
}

/* total_timeout_ms bounds a whole fetch: an attempt allowed 60 s (timeout_ms),
 * against a server that stalls for 30 s, ends after about 2000 ms. */
static void test_total_timeout(void) {
    paytrim_auth_client *client = client_of(config_with("total_timeout_ms", "2000", "timeout_ms", "60000",
                                                        "max_attempts", "10", NULL));
    control_post("/_emulator/faults", "{\"kind\":\"stall\",\"ms\":30000}");
    char *token = NULL;
    double t0 = now_ms();
    paytrim_auth_error *err = paytrim_auth_client_get_token(client, &token, NULL);
    double took = now_ms() - t0;
    printf("config effect: total_timeout_ms=2000 against a stalling server: %.0f ms\n", took);
    CHECK(paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_NETWORK && strstr(msg(err), "timed out"), "%s", msg(err));
    CHECK(took >= 1900 && took < 20000, "total_timeout_ms=2000 took %.0f ms", took);
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
}

/* refresh_margin_s: tokens live 8 s; a 2 s margin starts the background
 * refresh 6 s after the fetch (minus at most 0.4 s of jitter). At 4.6 s the
 * cached token is served with no refresh (a margin read as minutes, capped at
 * half the life, would have refreshed at 4 s); at 6.6 s a cache hit starts the
 * refresh (a margin read as milliseconds would wait until about 8 s). */
static void test_refresh_margin(void) {
    control_post("/_emulator/config", "{\"expires_in\":8}");
    paytrim_auth_client *client = client_of(config_with("refresh_margin_s", "2", NULL));
    char *first = NULL, *hit = NULL;
    double t0 = now_ms();
    paytrim_auth_error *err = paytrim_auth_client_get_token(client, &first, NULL);
    CHECK(err == NULL && first, "first: %s", msg(err));
    paytrim_auth_error_free(err);
    control_post("/_emulator/config", "{\"expires_in\":3599}");
    long before = token_requests();

    sleep_until(t0 + 4600);
    err = paytrim_auth_client_get_cached_token(client, &hit, NULL);
    CHECK(err == NULL && hit && first && strcmp(hit, first) == 0, "4.6 s: cached token served: %s", msg(err));
    paytrim_auth_string_free(hit);
    hit = NULL;

    sleep_until(t0 + 6600);
    err = paytrim_auth_client_get_cached_token(client, &hit, NULL);
    /* Still the first token: nothing was refreshed before the margin. */
    CHECK(err == NULL && hit && first && strcmp(hit, first) == 0, "6.6 s: a refresh landed before the margin");
    paytrim_auth_string_free(hit);
    double waited = now_ms();
    while (token_requests() == before && now_ms() - waited < 15000) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK(token_requests() == before + 1, "refresh_margin_s=2: %ld refreshes by 6.6 s", token_requests() - before);
    printf("config effect: refresh_margin_s=2 on 8 s tokens: %ld refresh by 6.6 s, none before\n", token_requests() - before);
    paytrim_auth_string_free(first);
    paytrim_auth_client_free(client);
}

/* proxy: a configured proxy receives a CONNECT for the token endpoint
 * (even to loopback: the application asked for it); a refusing proxy is a
 * network error that names it. proxy=none goes direct although the
 * environment names a dead proxy. */
static void test_proxy(void) {
    struct listener p;
    listener_start(&p, 1);
    char proxy_url[64], want[96];
    snprintf(proxy_url, sizeof proxy_url, "http://127.0.0.1:%d", p.port);
    snprintf(want, sizeof want, "CONNECT %s", strstr(https_url, "127.0.0.1"));
    paytrim_auth_client *client = client_of(config_with("proxy", proxy_url, "max_attempts", "1", NULL));
    char *token = NULL;
    paytrim_auth_error *err = paytrim_auth_client_get_token(client, &token, NULL);
    CHECK(paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_NETWORK && strstr(msg(err), "proxy"), "%s", msg(err));
    pthread_mutex_lock(&p.lock);
    CHECK(strncmp(p.first_line, want, strlen(want)) == 0, "proxy saw '%s', wanted '%s'", p.first_line, want);
    pthread_mutex_unlock(&p.lock);
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
    listener_stop(&p);

    const char *env = getenv("HTTPS_PROXY");
    CHECK(env && *env, "run with HTTPS_PROXY set to a dead proxy (tests/c/run.sh does)");
    client = client_of(config_with(NULL));
    err = paytrim_auth_client_get_token(client, &token, NULL);
    CHECK(err == NULL && token, "proxy=none with HTTPS_PROXY=%s: %s", env ? env : "", msg(err));
    paytrim_auth_string_free(token);
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
}

/* Freeing a client while its fetch is in flight (valgrind watches for a use
 * after free): a blocking caller on another client of the same key still
 * gets the token, an async caller's callback still runs, and the freed
 * client's own abandoned fetch touches nothing that was freed. */
struct waiter {
    paytrim_auth_client *client;
    char *token;
    uint32_t code;
};

static void *blocking_get(void *arg) {
    struct waiter *w = arg;
    paytrim_auth_error *err = paytrim_auth_client_get_token(w->client, &w->token, NULL);
    w->code = paytrim_auth_error_code(err);
    paytrim_auth_error_free(err);
    return NULL;
}

struct async_done {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    uint32_t code;
    int got_token;
};

static void on_token(void *user_data, const char *token, int64_t expires, const paytrim_auth_error *error) {
    struct async_done *d = user_data;
    (void)expires;
    pthread_mutex_lock(&d->lock);
    d->code = paytrim_auth_error_code(error);
    d->got_token = token != NULL && strlen(token) > 100;
    d->done = 1;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static void test_free_during_fetch(void) {
    /* Attempts are counted: generous timeouts, so no attempt is cut and resent under valgrind. */
    paytrim_auth_config *config = config_with("timeout_ms", "60000", "total_timeout_ms", "120000", NULL);
    paytrim_auth_client *starter = NULL, *other = NULL;
    paytrim_auth_error *e1 = paytrim_auth_client_new(CLIENT_ID, SECRET, config, &starter);
    paytrim_auth_error *e2 = paytrim_auth_client_new(CLIENT_ID, SECRET, config, &other);
    CHECK(!e1 && !e2, "clients: %s %s", msg(e1), msg(e2));
    paytrim_auth_config_free(config);
    control_post("/_emulator/config", "{\"latency_ms\":1500}");
    long before = token_requests();

    struct async_done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    paytrim_auth_error *err = paytrim_auth_client_get_token_async(starter, on_token, &d);
    CHECK(err == NULL, "async: %s", msg(err));
    paytrim_auth_error_free(err);
    struct waiter w = {other, NULL, 99};
    pthread_t t;
    pthread_create(&t, NULL, blocking_get, &w);
    paytrim_auth_client_free(starter); /* its fetch is in flight (1.5 s latency) */
    pthread_join(t, NULL);
    CHECK(w.code == 0 && w.token, "the other caller after the starter was freed: code %u", w.code);
    paytrim_auth_string_free(w.token);
    pthread_mutex_lock(&d.lock);
    while (!d.done) {
        pthread_cond_wait(&d.cond, &d.lock);
    }
    pthread_mutex_unlock(&d.lock);
    CHECK(d.code == 0 && d.got_token, "the freed client's callback: code %u", d.code);
    CHECK(token_requests() == before + 1, "one request, saw %ld", token_requests() - before);

    /* The last client of a key freed mid-fetch, nobody waiting. */
    paytrim_auth_client *alone = client_of(config_with("timeout_ms", "60000", "total_timeout_ms", "120000", NULL));
    struct async_done d2 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    err = paytrim_auth_client_get_token_async(alone, on_token, &d2);
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(alone);
    pthread_mutex_lock(&d2.lock);
    while (!d2.done) {
        pthread_cond_wait(&d2.cond, &d2.lock);
    }
    pthread_mutex_unlock(&d2.lock);
    CHECK(d2.code == 0 && d2.got_token, "callback after its client was freed: code %u", d2.code);
    paytrim_auth_client_free(other);
    control_post("/_emulator/config", "{\"latency_ms\":0}");
}

int main(void) {
    harness_init();
    double t0 = now_ms();
    test_connect_timeout();
    test_total_timeout();
    test_proxy();
    test_free_during_fetch();
    test_refresh_margin();
    printf("c-config-effects: %d passed, %d failed (%.1f s)\n", passed, failed, (now_ms() - t0) / 1e3);
    return failed == 0 ? 0 : 1;
}
