/* One process's first token, as a new worker sees it: dlopen the release
 * cdylib, configure a client (config keys from argv, "key=value"), ask for a
 * token. Used by bench/tiers.sh to time a first token from the network, from
 * a warm on-host tier and from Redis, and to restart a "fleet" at once.
 *
 * usage: tierprobe LIB CLIENT_ID CLIENT_SECRET [key=value]...
 * If TIERPROBE_GO names a file, waits for it to exist before starting the
 * clock (so many processes start together). Prints one JSON line:
 *   {"ok":true,"first_token_ms":..,"client_new_ms":..,"get_token_ms":..}
 * where first_token_ms counts dlopen + client creation + the first token.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct paytrim_auth_error paytrim_auth_error;
typedef struct paytrim_auth_config paytrim_auth_config;
typedef struct paytrim_auth_client paytrim_auth_client;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void log_line(void *user, uint32_t level, const char *message) {
    (void)user;
    fprintf(stderr, "[%u] %s\n", level, message);
}

static void *sym(void *lib, const char *name) {
    void *p = dlsym(lib, name);
    if (!p) { fprintf(stderr, "missing %s\n", name); exit(2); }
    return p;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: tierprobe LIB CLIENT_ID CLIENT_SECRET [key=value]...\n"); return 2; }
    const char *go = getenv("TIERPROBE_GO");
    if (go) {
        while (access(go, F_OK) != 0) usleep(200);
    }
    double t0 = now_ms();
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 2; }
    paytrim_auth_config *(*config_new)(void) = sym(lib, "paytrim_auth_config_new");
    paytrim_auth_error *(*config_set)(paytrim_auth_config *, const char *, const char *) = sym(lib, "paytrim_auth_config_set");
    void (*config_free)(paytrim_auth_config *) = sym(lib, "paytrim_auth_config_free");
    paytrim_auth_error *(*client_new)(const char *, const char *, const paytrim_auth_config *, paytrim_auth_client **) =
        sym(lib, "paytrim_auth_client_new");
    void (*client_free)(paytrim_auth_client *) = sym(lib, "paytrim_auth_client_free");
    paytrim_auth_error *(*get_token)(const paytrim_auth_client *, char **, int64_t *) = sym(lib, "paytrim_auth_client_get_token");
    void (*string_free)(char *) = sym(lib, "paytrim_auth_string_free");
    const char *(*error_message)(const paytrim_auth_error *) = sym(lib, "paytrim_auth_error_message");

    if (getenv("TIERPROBE_LOG")) {
        paytrim_auth_error *(*set_log)(uint32_t, void (*)(void *, uint32_t, const char *), void *) =
            sym(lib, "paytrim_auth_set_log_callback");
        set_log((uint32_t)atoi(getenv("TIERPROBE_LOG")), log_line, NULL);
    }
    paytrim_auth_config *cfg = config_new();
    for (int i = 4; i < argc; i++) {
        char *kv = strdup(argv[i]);
        char *eq = strchr(kv, '=');
        if (!eq) { fprintf(stderr, "not key=value: %s\n", argv[i]); return 2; }
        *eq = 0;
        paytrim_auth_error *e = config_set(cfg, kv, eq + 1);
        if (e) { printf("{\"ok\":false,\"error\":\"config %s: %s\"}\n", kv, error_message(e)); return 1; }
        free(kv);
    }
    double t1 = now_ms();
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *e = client_new(argv[2], argv[3], cfg, &client);
    config_free(cfg);
    if (e) { printf("{\"ok\":false,\"error\":\"client: %s\"}\n", error_message(e)); return 1; }
    double t2 = now_ms();
    char *token = NULL;
    e = get_token(client, &token, NULL);
    double t3 = now_ms();
    if (e) { printf("{\"ok\":false,\"error\":\"token: %s\"}\n", error_message(e)); return 1; }
    string_free(token);
    printf("{\"ok\":true,\"first_token_ms\":%.3f,\"client_new_ms\":%.3f,\"get_token_ms\":%.3f}\n",
           t3 - t0, t2 - t1, t3 - t2);
    fflush(stdout);
    client_free(client);
    return 0;
}
