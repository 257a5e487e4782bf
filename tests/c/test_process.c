/*
 * The library inside a demanding host process: fork() with fetches in
 * flight, fork() during a background refresh, fork() in a loop under load,
 * and a server that resets connections mid-request in a host that keeps the
 * default SIGPIPE action. Run by tests/c/run.sh against the emulator:
 *   PAYTRIM_TEST_HTTPS  https://127.0.0.1:PORT   (token endpoint host)
 *   PAYTRIM_TEST_HTTP   http://127.0.0.1:PORT    (control API)
 *   PAYTRIM_TEST_CA     CA file to trust
 * Usage: test_process [fork-in-flight|fork-refresh|fork-loop|sigpipe]...
 * (no argument: all). PAYTRIM_TEST_FORKS sets the fork loop's count.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "paytrim_auth.h"

#define CLIENT_ID "11111111-1111-1111-1111-111111111111"
#define SECRET "your-client-secret"

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

static const char *https_url, *ca_file;
static int control_port, https_port;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- the emulator's plain-HTTP control API ---- */

static int connect_port(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

static char *control(const char *method, const char *path, const char *body) {
    int fd = connect_port(control_port);
    if (fd < 0) {
        fprintf(stderr, "cannot reach the emulator's control port\n");
        _exit(2);
    }
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        _exit(2);
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

static void knobs(const char *json) {
    free(control("POST", "/_emulator/config", json));
}

static long token_requests(void) {
    char *resp = control("GET", "/_emulator/stats", NULL);
    const char *p = strstr(resp, "\"token_requests\":");
    long n = p ? strtol(p + strlen("\"token_requests\":"), NULL, 10) : -1;
    free(resp);
    return n;
}

/* Waits (polling the emulator) until it has received `n` token requests. */
static int wait_for_requests(long n, int timeout_ms) {
    double end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        if (token_requests() >= n) {
            return 1;
        }
        sleep_ms(5);
    }
    return 0;
}

/* ---- clients ---- */

static const char *msg(paytrim_auth_error *err) {
    return err ? paytrim_auth_error_message(err) : "(no error)";
}

static int counter;

static paytrim_auth_client *client_for(const char *authority, const char *secret, const char *tag,
                                       const char *total_timeout_ms, const char *max_attempts) {
    paytrim_auth_config *config = paytrim_auth_config_new();
    char scope[96];
    snprintf(scope, sizeof scope, "api://process-%s-%d-%d/.default", tag, (int)getpid(), ++counter);
    const char *kv[][2] = {{"authority_host", authority}, {"tenant", "contoso.onmicrosoft.com"},
                           {"ca_file", ca_file},          {"scope", scope},
                           {"proxy", "none"},             {"total_timeout_ms", total_timeout_ms},
                           {"max_attempts", max_attempts}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        paytrim_auth_error *e = paytrim_auth_config_set(config, kv[i][0], kv[i][1]);
        if (e) {
            fprintf(stderr, "config_set %s: %s\n", kv[i][0], msg(e));
            _exit(2);
        }
    }
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new(CLIENT_ID, secret, config, &client);
    paytrim_auth_config_free(config);
    if (err) {
        fprintf(stderr, "client_new: %s\n", msg(err));
        _exit(2);
    }
    return client;
}

static paytrim_auth_client *new_client(const char *tag) {
    return client_for(https_url, SECRET, tag, "5000", "2");
}

/* A token (owned) or NULL, printing the error. */
static char *get_token(paytrim_auth_client *client, const char *who) {
    char *token = NULL;
    paytrim_auth_error *err = paytrim_auth_client_get_token(client, &token, NULL);
    if (err) {
        fprintf(stderr, "[%s pid %d] get_token: %s\n", who, (int)getpid(), msg(err));
        paytrim_auth_error_free(err);
        return NULL;
    }
    return token;
}

/* In a child: gets a token within `budget_ms`; exit status 0 if so. */
static int child_gets_token(paytrim_auth_client *client, double budget_ms, const char *what) {
    double t0 = now_ms();
    char *token = get_token(client, what);
    double took = now_ms() - t0;
    int ok = token != NULL && strlen(token) > 100 && took < budget_ms;
    if (!ok) {
        fprintf(stderr, "[child %d] %s: %s after %.0f ms (budget %.0f ms)\n", (int)getpid(), what,
                token ? "token" : "no token", took, budget_ms);
    }
    paytrim_auth_string_free(token);
    return ok;
}

/* Waits for `pid` at most `timeout_ms`; kills it if it hangs. Returns its
 * exit status, or -1 if it had to be killed, -2 if it died of a signal. */
static int wait_child(pid_t pid, int timeout_ms) {
    double end = now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFSIGNALED(status)) {
                fprintf(stderr, "child %d killed by signal %d\n", (int)pid, WTERMSIG(status));
                return -2;
            }
            return WEXITSTATUS(status);
        }
        if (now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "child %d hung for %d ms; killed\n", (int)pid, timeout_ms);
            return -1;
        }
        sleep_ms(5);
    }
}

/* ---- async results ---- */

struct result {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, ok;
};

static void on_token(void *user_data, const char *token, int64_t expires, paytrim_auth_error const *error) {
    (void)expires;
    struct result *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->ok = token != NULL && error == NULL;
    r->done = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static int wait_result(struct result *r, int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    pthread_mutex_lock(&r->lock);
    while (!r->done) {
        if (pthread_cond_timedwait(&r->cond, &r->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    int ok = r->done && r->ok;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

/* ---- fork with fetches in flight ---- */

static atomic_int fork_logged;

static void on_log(void *user_data, uint32_t level, const char *message) {
    (void)user_data;
    (void)level;
    if (strstr(message, "fork detected")) {
        atomic_store(&fork_logged, 1);
    }
}

static void *fetch_thread(void *client) {
    return get_token(client, "warm-up");
}

static void test_fork_with_fetch_in_flight(void) {
    free(control("POST", "/_emulator/reset", NULL));
    /* Two keys fetched at once leave two pooled keep-alive connections. */
    knobs("{\"latency_ms\":300}");
    paytrim_auth_client *a1 = new_client("a1"), *a2 = new_client("a2");
    pthread_t t1, t2;
    void *tok1, *tok2;
    pthread_create(&t1, NULL, fetch_thread, a1);
    pthread_create(&t2, NULL, fetch_thread, a2);
    pthread_join(t1, &tok1);
    pthread_join(t2, &tok2);
    CHECK(tok1 && tok2, "warm-up fetches");
    paytrim_auth_string_free(tok1);
    paytrim_auth_string_free(tok2);

    /* A fetch for key B is in flight (the emulator holds it 1.5 s) ... */
    knobs("{\"latency_ms\":1500}");
    paytrim_auth_client *b = new_client("b");
    struct result rb = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    long before = token_requests();
    paytrim_auth_error *err = paytrim_auth_client_get_token_async(b, on_token, &rb);
    CHECK(err == NULL, "get_token_async: %s", msg(err));
    CHECK(wait_for_requests(before + 1, 5000), "B's request reached the emulator");

    /* ... when the host forks. */
    paytrim_auth_error *log_err = paytrim_auth_set_log_callback(PAYTRIM_AUTH_LOG_INFO, on_log, NULL);
    CHECK(log_err == NULL, "set_log_callback: %s", msg(log_err));
    pid_t pid = fork();
    if (pid == 0) {
        int ok = child_gets_token(b, 5000, "key B, in flight in the parent at fork");
        if (!atomic_load(&fork_logged)) {
            fprintf(stderr, "[child] no 'fork detected' log event\n");
            ok = 0;
        }
        ok &= child_gets_token(new_client("c"), 5000, "a new key");
        ok &= child_gets_token(a1, 100, "a key cached before fork");
        _exit(ok ? 0 : 1);
    }
    CHECK(wait_result(&rb, 10000), "the parent's fetch for B lands");
    CHECK(!atomic_load(&fork_logged), "the parent logged a fork");
    int status = wait_child(pid, 20000);
    CHECK(status == 0, "child status %d: it must get B and a new key within the budget", status);

    /* The parent's pooled connections still work after the child used the library. */
    knobs("{\"latency_ms\":0}");
    paytrim_auth_client *d1 = new_client("d1"), *d2 = new_client("d2");
    char *x = get_token(d1, "parent after fork"), *y = get_token(d2, "parent after fork");
    CHECK(x && y, "the parent fetches new keys over its pooled connections after the child ran");
    paytrim_auth_string_free(x);
    paytrim_auth_string_free(y);
    paytrim_auth_set_log_callback(PAYTRIM_AUTH_LOG_INFO, NULL, NULL);
    paytrim_auth_client *all[] = {a1, a2, b, d1, d2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        paytrim_auth_client_free(all[i]);
    }
}

/* ---- fork during a background refresh ---- */

static void test_fork_during_background_refresh(void) {
    free(control("POST", "/_emulator/reset", NULL));
    knobs("{\"refresh_in\":1}"); /* refresh about 1 s after issue */
    paytrim_auth_client *r = new_client("refresh");
    char *t1 = get_token(r, "refresh: first");
    CHECK(t1 != NULL, "first token");
    if (!t1) {
        return;
    }
    /* Hits past the refresh point start a background refresh, held 2 s. */
    knobs("{\"latency_ms\":2000}");
    long before = token_requests();
    double end = now_ms() + 10000;
    while (token_requests() == before && now_ms() < end) {
        char *t = get_token(r, "refresh: hit");
        paytrim_auth_string_free(t);
        sleep_ms(20);
    }
    CHECK(token_requests() > before, "a background refresh started");

    pid_t pid = fork();
    if (pid == 0) {
        /* Hits keep answering at once; within a few seconds a refresh of
         * the child's own replaces the token. */
        double deadline = now_ms() + 8000;
        int changed = 0, slow = 0;
        while (!changed && now_ms() < deadline) {
            double t0 = now_ms();
            char *t = get_token(r, "child: hit");
            slow |= now_ms() - t0 > 1000;
            changed = t != NULL && strcmp(t, t1) != 0;
            paytrim_auth_string_free(t);
            sleep_ms(20);
        }
        if (!changed || slow) {
            fprintf(stderr, "[child] background refresh: changed=%d slow hit=%d\n", changed, slow);
        }
        _exit(changed && !slow ? 0 : 1);
    }
    int status = wait_child(pid, 20000);
    CHECK(status == 0, "child status %d: its background refresh must run", status);
    /* The parent's own refresh lands too. */
    end = now_ms() + 8000;
    int changed = 0;
    while (!changed && now_ms() < end) {
        char *t = get_token(r, "parent: hit");
        changed = t != NULL && strcmp(t, t1) != 0;
        paytrim_auth_string_free(t);
        sleep_ms(20);
    }
    CHECK(changed, "the parent's background refresh lands");
    paytrim_auth_string_free(t1);
    paytrim_auth_client_free(r);
    knobs("{\"latency_ms\":0,\"refresh_in\":null}");
}

/* ---- fork in a loop under load ---- */

#define LOAD_THREADS 4
#define LOAD_KEYS 6
static paytrim_auth_client *load_clients[LOAD_KEYS];
static atomic_int stop_load, load_errors, load_calls;

static void *load_thread(void *arg) {
    unsigned seed = (unsigned)(size_t)arg;
    while (!atomic_load(&stop_load)) {
        paytrim_auth_client *c = load_clients[rand_r(&seed) % LOAD_KEYS];
        char *t = get_token(c, "load");
        if (!t) {
            atomic_fetch_add(&load_errors, 1);
        }
        paytrim_auth_string_free(t);
        atomic_fetch_add(&load_calls, 1);
    }
    return NULL;
}

static void test_fork_loop_under_load(void) {
    free(control("POST", "/_emulator/reset", NULL));
    /* Short-lived tokens (refreshed about every second) and a slow server:
     * fetches and refreshes are in flight most of the time. */
    knobs("{\"expires_in\":2,\"latency_ms\":40}");
    for (int i = 0; i < LOAD_KEYS; i++) {
        load_clients[i] = new_client("load");
    }
    pthread_t threads[LOAD_THREADS];
    for (int i = 0; i < LOAD_THREADS; i++) {
        pthread_create(&threads[i], NULL, load_thread, (void *)(size_t)(i + 1));
    }
    const char *env = getenv("PAYTRIM_TEST_FORKS");
    int forks = env ? atoi(env) : 30, good = 0;
    for (int i = 0; i < forks; i++) {
        sleep_ms(30 + (i * 37) % 70);
        pid_t pid = fork();
        if (pid == 0) {
            int ok = child_gets_token(load_clients[i % LOAD_KEYS], 5000, "a loaded key");
            ok &= child_gets_token(new_client("fork-loop"), 5000, "a new key");
            _exit(ok ? 0 : 1);
        }
        int status = wait_child(pid, 20000);
        good += status == 0;
        CHECK(status == 0, "fork %d: child status %d", i, status);
    }
    atomic_store(&stop_load, 1);
    for (int i = 0; i < LOAD_THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    CHECK(atomic_load(&load_errors) == 0, "%d of %d calls in the parent failed", atomic_load(&load_errors),
          atomic_load(&load_calls));
    printf("fork loop: %d of %d children got valid tokens within budget; parent: %d calls, %d errors\n", good,
           forks, atomic_load(&load_calls), atomic_load(&load_errors));
    for (int i = 0; i < LOAD_KEYS; i++) {
        paytrim_auth_client_free(load_clients[i]);
    }
    knobs("{\"expires_in\":3599,\"latency_ms\":0}");
}

/* ---- SIGPIPE: a server that resets connections mid-request ---- */

/* A TCP relay in front of the emulator's HTTPS port that lets the TLS
 * handshake through, then, once the client has sent RESET_AFTER bytes
 * (mid-request: the request body is large), resets the client's connection
 * (SO_LINGER 0: an RST) while the client is still writing. */
#define RESET_AFTER (16 * 1024)
static int relay_listener;
static atomic_int relay_resets;

static void *relay_connection(void *arg) {
    int client = (int)(size_t)arg;
    int server = connect_port(https_port);
    size_t sent = 0;
    char buf[16384];
    struct pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    while (server >= 0 && sent < RESET_AFTER && poll(fds, 2, 10000) > 0) {
        if (fds[0].revents) {
            ssize_t n = read(client, buf, sizeof buf);
            if (n <= 0 || write(server, buf, (size_t)n) != n) {
                break;
            }
            sent += (size_t)n;
        }
        if (fds[1].revents) {
            ssize_t n = read(server, buf, sizeof buf);
            if (n <= 0 || write(client, buf, (size_t)n) != n) {
                break;
            }
        }
    }
    struct linger hard = {1, 0};
    setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(client);
    if (server >= 0) {
        close(server);
    }
    atomic_fetch_add(&relay_resets, 1);
    return NULL;
}

static void *relay_accept(void *unused) {
    (void)unused;
    for (;;) {
        int c = accept(relay_listener, NULL, NULL);
        if (c < 0) {
            return NULL;
        }
        pthread_t t;
        pthread_create(&t, NULL, relay_connection, (void *)(size_t)c);
        pthread_detach(t);
    }
}

static void test_sigpipe_on_reset_mid_request(void) {
    free(control("POST", "/_emulator/reset", NULL));
    relay_listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(relay_listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(relay_listener, 64) != 0 ||
        getsockname(relay_listener, (struct sockaddr *)&addr, &len) != 0) {
        fprintf(stderr, "relay: cannot listen\n");
        exit(2);
    }
    pthread_t acceptor;
    pthread_create(&acceptor, NULL, relay_accept, NULL);
    char authority[64];
    snprintf(authority, sizeof authority, "https://127.0.0.1:%d", ntohs(addr.sin_port));

    /* A large secret makes a large form body: the client is mid-write when
     * the connection is reset. */
    size_t big = 512 * 1024;
    char *secret = malloc(big + 1);
    memset(secret, 'x', big);
    secret[big] = '\0';
    const char *env = getenv("PAYTRIM_TEST_RESETS");
    int rounds = env ? atoi(env) : 10, network = 0;
    for (int i = 0; i < rounds; i++) {
        paytrim_auth_client *c = client_for(authority, secret, "reset", "10000", "3");
        char *token = NULL;
        paytrim_auth_error *err = paytrim_auth_client_get_token(c, &token, NULL);
        int ok = err != NULL && paytrim_auth_error_code(err) == PAYTRIM_AUTH_ERROR_NETWORK &&
                 paytrim_auth_error_is_retryable(err);
        network += ok;
        CHECK(ok, "round %d: want a retryable network error, got %s", i, msg(err));
        paytrim_auth_error_free(err);
        paytrim_auth_string_free(token);
        paytrim_auth_client_free(c);
    }
    free(secret);
    printf("sigpipe: %d rounds, %d connections reset mid-request, %d retryable network errors, still alive\n",
           rounds, atomic_load(&relay_resets), network);
    CHECK(atomic_load(&relay_resets) >= rounds, "every round reached the relay");
    shutdown(relay_listener, SHUT_RDWR);
    close(relay_listener);
    pthread_join(acceptor, NULL);
}

int main(int argc, char **argv) {
    /* The host under test keeps the default SIGPIPE action, whatever the
     * shell that started it did. */
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);

    https_url = getenv("PAYTRIM_TEST_HTTPS");
    ca_file = getenv("PAYTRIM_TEST_CA");
    const char *http = getenv("PAYTRIM_TEST_HTTP");
    if (!https_url || !ca_file || !http) {
        fprintf(stderr, "set PAYTRIM_TEST_HTTPS, PAYTRIM_TEST_HTTP and PAYTRIM_TEST_CA (tests/c/run.sh does)\n");
        return 2;
    }
    control_port = atoi(strrchr(http, ':') + 1);
    https_port = atoi(strrchr(https_url, ':') + 1);

    struct {
        const char *name;
        void (*run)(void);
    } tests[] = {{"fork-in-flight", test_fork_with_fetch_in_flight},
                 {"fork-refresh", test_fork_during_background_refresh},
                 {"fork-loop", test_fork_loop_under_load},
                 {"sigpipe", test_sigpipe_on_reset_mid_request}};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++) {
            wanted |= strcmp(argv[a], tests[i].name) == 0;
        }
        if (wanted) {
            int before = failed;
            double t0 = now_ms();
            tests[i].run();
            printf("%s: %s (%.1f s)\n", tests[i].name, failed == before ? "ok" : "FAILED", (now_ms() - t0) / 1e3);
        }
    }
    printf("c-process: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
