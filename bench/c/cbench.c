/* The library as a C program sees it: dlopen the release cdylib, then
 *  - resident memory added by loading it, and by one client + its first token;
 *  - cache-hit cost of paytrim_auth_client_get_token + paytrim_auth_string_free;
 *  - cold fetch (new client + first token) and a 32-caller stampede, against
 *    the same emulator the peers (MSAL, azure-identity, msal-node) use;
 *  - memory per cached key (clients alive) and per cached token (clients freed).
 * Prints one JSON object on stdout.
 *
 * usage: cbench LIB HTTPS_URL HTTP_URL CA_FILE CLIENT_ID CLIENT_SECRET [KEYS]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct paytrim_auth_error paytrim_auth_error;
typedef struct paytrim_auth_config paytrim_auth_config;
typedef struct paytrim_auth_client paytrim_auth_client;

static paytrim_auth_config *(*config_new)(void);
static paytrim_auth_error *(*config_set)(paytrim_auth_config *, const char *, const char *);
static void (*config_free)(paytrim_auth_config *);
static paytrim_auth_error *(*client_new)(const char *, const char *, const paytrim_auth_config *, paytrim_auth_client **);
static void (*client_free)(paytrim_auth_client *);
static paytrim_auth_error *(*get_token)(const paytrim_auth_client *, char **, int64_t *);
static void (*string_free)(char *);
static const char *(*error_message)(const paytrim_auth_error *);

static const char *https_url, *http_url, *ca_file, *client_id, *client_secret;
static const char *tenant = "contoso.onmicrosoft.com";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_bytes(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2) { perror("statm"); exit(1); }
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static void check(paytrim_auth_error *e, const char *what) {
    if (e) { fprintf(stderr, "%s: %s\n", what, error_message(e)); exit(1); }
}

static void *sym(void *lib, const char *name) {
    void *p = dlsym(lib, name);
    if (!p) { fprintf(stderr, "missing symbol %s\n", name); exit(1); }
    return p;
}

static paytrim_auth_client *make_client(const char *scope) {
    paytrim_auth_config *cfg = config_new();
    check(config_set(cfg, "tenant", tenant), "tenant");
    check(config_set(cfg, "authority_host", https_url), "authority_host");
    check(config_set(cfg, "ca_file", ca_file), "ca_file");
    check(config_set(cfg, "scope", scope), "scope");
    paytrim_auth_client *c = NULL;
    check(client_new(client_id, client_secret, cfg, &c), "client_new");
    config_free(cfg);
    return c;
}

static size_t one_token(const paytrim_auth_client *c) {
    char *tok = NULL;
    int64_t exp = 0;
    check(get_token(c, &tok, &exp), "get_token");
    size_t first = (unsigned char)tok[0];
    string_free(tok);
    return first;
}

/* GET {http}/_emulator/stats -> token_requests */
static long token_requests(void) {
    const char *hostport = http_url + strlen("http://");
    const char *colon = strrchr(hostport, ':');
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
    const char *req = "GET /_emulator/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(s, req, strlen(req)) < 0) { perror("write"); exit(1); }
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    while ((r = read(s, buf + n, sizeof buf - 1 - n)) > 0) n += r;
    buf[n] = 0;
    close(s);
    char *p = strstr(buf, "\"token_requests\":");
    if (!p) { fprintf(stderr, "bad stats answer\n"); exit(1); }
    return atol(p + strlen("\"token_requests\":"));
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define CALLERS 32
static pthread_barrier_t start_barrier;
static paytrim_auth_client *stampede_clients[CALLERS];
static void *stampede_caller(void *arg) {
    pthread_barrier_wait(&start_barrier);
    one_token(stampede_clients[(intptr_t)arg]);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 7) { fprintf(stderr, "usage: %s LIB HTTPS HTTP CA_FILE CLIENT_ID SECRET [KEYS]\n", argv[0]); return 2; }
    https_url = argv[2]; http_url = argv[3]; ca_file = argv[4]; client_id = argv[5]; client_secret = argv[6];
    int keys = argc > 7 ? atoi(argv[7]) : 1000;

    /* Memory: load, then one client and its first token. */
    long rss0 = rss_bytes();
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    config_new = sym(lib, "paytrim_auth_config_new");
    config_set = sym(lib, "paytrim_auth_config_set");
    config_free = sym(lib, "paytrim_auth_config_free");
    client_new = sym(lib, "paytrim_auth_client_new");
    client_free = sym(lib, "paytrim_auth_client_free");
    get_token = sym(lib, "paytrim_auth_client_get_token");
    string_free = sym(lib, "paytrim_auth_string_free");
    error_message = sym(lib, "paytrim_auth_error_message");
    long rss_loaded = rss_bytes();
    paytrim_auth_client *c = make_client("api://c-hit/.default");
    one_token(c);
    long rss_client = rss_bytes();

    /* CBENCH_HITS=N: only N cache hits, then exit (for callgrind: the
     * difference between two N is the instruction cost of N hits). */
    const char *only = getenv("CBENCH_HITS");
    if (only) {
        long hits = atol(only);
        size_t s = 0;
        for (long i = 0; i < hits; i++) s += one_token(c);
        printf("{\"hits\":%ld,\"sink\":%zu}\n", hits, s % 7);
        client_free(c);
        return 0;
    }

    /* Cache hit. */
    const int n = 1000000, rounds = 7;
    double hit[rounds];
    size_t sink = 0;
    for (int i = 0; i < 200000; i++) sink += one_token(c);
    for (int r = 0; r < rounds; r++) {
        double t = now_s();
        for (int i = 0; i < n; i++) sink += one_token(c);
        hit[r] = (now_s() - t) * 1e9 / n;
    }
    double hit_ns = median(hit, rounds);

    /* Cold fetch: new client (new key) + first token. */
    double cold[15];
    char scope[128];
    for (int i = 0; i < 15; i++) {
        snprintf(scope, sizeof scope, "api://c-cold%d/.default", i);
        double t = now_s();
        paytrim_auth_client *k = make_client(scope);
        sink += one_token(k);
        cold[i] = (now_s() - t) * 1e3;
        client_free(k);
    }
    double cold_ms = median(cold, 15);

    /* Stampede: 32 first callers, each with its own client of one key. */
    for (int i = 0; i < CALLERS; i++) stampede_clients[i] = make_client("api://c-stampede32/.default");
    pthread_barrier_init(&start_barrier, NULL, CALLERS);
    long before = token_requests();
    pthread_t th[CALLERS];
    for (intptr_t i = 0; i < CALLERS; i++) pthread_create(&th[i], NULL, stampede_caller, (void *)i);
    for (int i = 0; i < CALLERS; i++) pthread_join(th[i], NULL);
    long stampede_requests = token_requests() - before;
    for (int i = 0; i < CALLERS; i++) client_free(stampede_clients[i]);

    /* Memory per cached key: `keys` clients with distinct scopes, each with
     * its token (each client also keeps its idle keep-alive connection). */
    malloc_trim(0);
    long rss_keys0 = rss_bytes();
    paytrim_auth_client **many = calloc(keys, sizeof *many);
    for (int i = 0; i < keys; i++) {
        snprintf(scope, sizeof scope, "api://c-mem%d/.default", i);
        many[i] = make_client(scope);
        sink += one_token(many[i]);
    }
    malloc_trim(0);
    long rss_keys1 = rss_bytes();
    /* Free the clients: the tokens stay cached (fewer than 1024 unheld keys). */
    for (int i = 0; i < keys; i++) client_free(many[i]);
    free(many);
    malloc_trim(0);
    long rss_keys2 = rss_bytes();

    printf("{\"name\":\"c_program\",\"rss_before_dlopen\":%ld,\"rss_added_by_dlopen\":%ld,"
           "\"rss_added_by_client_and_token\":%ld,\"rss_added_total\":%ld,"
           "\"hit_ns\":%.1f,\"cold_fetch_ms\":%.3f,\"stampede32_requests\":%ld,"
           "\"keys\":%d,\"bytes_per_cached_key_with_client\":%.0f,\"bytes_per_cached_token_clients_freed\":%.0f,\"sink\":%zu}\n",
           rss0, rss_loaded - rss0, rss_client - rss_loaded, rss_client - rss0, hit_ns, cold_ms,
           stampede_requests, keys, (double)(rss_keys1 - rss_keys0) / keys,
           (double)(rss_keys2 - rss_keys0) / keys, sink % 7);
    client_free(c);
    return 0;
}
