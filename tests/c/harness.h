/*
 * Shared by the C test programs added for logging, bad inputs and the soak:
 * a CHECK macro, and a tiny HTTP/1.1 client for the emulator's plain control
 * API (PAYTRIM_TEST_HTTP). Header-only: each program includes it once.
 */
#ifndef PAYTRIM_TEST_HARNESS_H
#define PAYTRIM_TEST_HARNESS_H

#include <arpa/inet.h>
#include <netinet/in.h>
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

static const char *https_url, *ca_file;
static int control_port;

/* Reads PAYTRIM_TEST_HTTPS, PAYTRIM_TEST_HTTP and PAYTRIM_TEST_CA; exits 2
 * when run outside tests/c/run.sh. */
static inline void harness_init(void) {
    https_url = getenv("PAYTRIM_TEST_HTTPS");
    ca_file = getenv("PAYTRIM_TEST_CA");
    const char *http = getenv("PAYTRIM_TEST_HTTP");
    if (!https_url || !ca_file || !http || !strrchr(http, ':')) {
        fprintf(stderr, "run through tests/c/run.sh (needs PAYTRIM_TEST_HTTPS, PAYTRIM_TEST_HTTP, PAYTRIM_TEST_CA)\n");
        exit(2);
    }
    control_port = atoi(strrchr(http, ':') + 1);
}

/* One request to the control API; returns the whole response (malloc'd). */
static inline char *control(const char *method, const char *path, const char *body) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)control_port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "cannot reach the emulator's control port\n");
        exit(2);
    }
    size_t body_len = body ? strlen(body) : 0;
    size_t cap_req = body_len + 512;
    char *req = malloc(cap_req);
    int n = snprintf(req, cap_req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body_len, body ? body : "");
    for (int off = 0; off < n;) {
        ssize_t w = write(fd, req + off, (size_t)(n - off));
        if (w <= 0) {
            exit(2);
        }
        off += (int)w;
    }
    free(req);
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

static inline long control_number(const char *path, const char *field) {
    char *resp = control("GET", path, NULL);
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", field);
    const char *p = strstr(resp, key);
    long n = p ? strtol(p + strlen(key), NULL, 10) : -1;
    free(resp);
    return n;
}

static inline long token_requests(void) {
    return control_number("/_emulator/stats", "token_requests");
}

static inline void control_post(const char *path, const char *body) {
    free(control("POST", path, body));
}

static inline const char *msg(const paytrim_auth_error *err) {
    return err ? paytrim_auth_error_message(err) : "(no error)";
}

#endif
