/* One new process, one token: the C side of the cold-start comparison with
 * Go's golang.org/x/oauth2 (bench/coldstart/go). Linked to
 * libpaytrim_auth.so (not dlopen'ed), as an application would be; trusts
 * the system roots (tls_roots=system, the default) plus the emulator's CA
 * file (ca_file), as the Go program does.
 *
 * usage: coldc AUTHORITY_HOST TENANT CA_FILE|- CLIENT_ID CLIENT_SECRET
 * ("-": no ca_file, the system roots only). Prints
 * "ok <token length> <µs from main() to token>" on stdout.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "paytrim_auth.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int check(paytrim_auth_error *e, const char *what) {
    if (!e) return 0;
    fprintf(stderr, "%s: %s\n", what, paytrim_auth_error_message(e));
    return 1;
}

int main(int argc, char **argv) {
    double start = now_us();
    if (argc != 6) {
        fprintf(stderr, "usage: coldc AUTHORITY_HOST TENANT CA_FILE|- CLIENT_ID CLIENT_SECRET\n");
        return 2;
    }
    paytrim_auth_config *cfg = paytrim_auth_config_new();
    if (check(paytrim_auth_config_set(cfg, "authority_host", argv[1]), "authority_host") ||
        check(paytrim_auth_config_set(cfg, "tenant", argv[2]), "tenant") ||
        (strcmp(argv[3], "-") != 0 && check(paytrim_auth_config_set(cfg, "ca_file", argv[3]), "ca_file")))
        return 1;
    paytrim_auth_client *client = NULL;
    if (check(paytrim_auth_client_new(argv[4], argv[5], cfg, &client), "client_new")) return 1;
    paytrim_auth_config_free(cfg);
    char *token = NULL;
    int64_t expires = 0;
    if (check(paytrim_auth_client_get_token(client, &token, &expires), "get_token")) return 1;
    double took = now_us() - start;
    printf("ok %zu %.0f\n", strlen(token), took);
    paytrim_auth_string_free(token);
    paytrim_auth_client_free(client);
    return 0;
}
