/* Evidence for a src/ change, not part of the library: what the owned-string
 * part of a cache hit costs (copy out a ~1.5 KB token, then wipe and free it
 * in paytrim_auth_string_free), done as src/ffi/strings.rs does it today
 * (malloc(len+1); strlen + wipe + free) and as proposed (a length header and
 * a one-buffer-per-thread recycle slot, so no strlen and no malloc/free of a
 * block larger than glibc's 1032-byte tcache limit on the hit path).
 *
 *   gcc -O2 bench/c/alloc_micro.c -o alloc_micro && ./alloc_micro [LEN]
 *   valgrind --tool=callgrind ./alloc_micro 1500 current|proposed 100000
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char token[4096];

static void wipe(void *p, size_t n) { /* like zeroize: memset the compiler may not drop */
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

/* today: owned() + paytrim_auth_string_free() */
static __attribute__((noinline)) char *cur_owned(const char *s, size_t n) {
    char *p = malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}
static __attribute__((noinline)) void cur_free(char *s) {
    size_t n = strlen(s);
    wipe(s, n);
    free(s);
}

/* proposed: [capacity][len] header before the bytes; one spare block per thread */
typedef struct { size_t cap, len; } hdr;
static __thread hdr *spare;
static __attribute__((noinline)) char *new_owned(const char *s, size_t n) {
    hdr *h = spare;
    if (h && h->cap >= n + 1) spare = NULL;
    else h = malloc(sizeof(hdr) + n + 1), h->cap = n + 1;
    h->len = n;
    char *p = (char *)(h + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}
static __attribute__((noinline)) void new_free(char *s) {
    hdr *h = (hdr *)s - 1;
    wipe(s, h->len + 1);
    if (!spare) spare = h;
    else free(h);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    size_t len = argc > 1 ? (size_t)atol(argv[1]) : 1500;
    const char *only = argc > 2 ? argv[2] : NULL;
    long n = argc > 3 ? atol(argv[3]) : 20000000;
    memset(token, 'e', len);
    size_t sink = 0;
    for (int round = 0; round < (only ? 1 : 3); round++) {
        if (!only || !strcmp(only, "current")) {
            double t = now();
            for (long i = 0; i < n; i++) { char *p = cur_owned(token, len); sink += p[i % len]; cur_free(p); }
            printf("current  (malloc+strlen+wipe+free), %zu B: %.1f ns\n", len, (now() - t) * 1e9 / n);
        }
        if (!only || !strcmp(only, "proposed")) {
            double t = now();
            for (long i = 0; i < n; i++) { char *p = new_owned(token, len); sink += p[i % len]; new_free(p); }
            printf("proposed (header+per-thread spare),  %zu B: %.1f ns\n", len, (now() - t) * 1e9 / n);
        }
    }
    return (int)(sink & 1) * 0;
}
