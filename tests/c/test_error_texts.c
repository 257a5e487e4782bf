/*
 * One error text in every language (tests/error_texts.tsv): each failure of the table, caused
 * through the C ABI, printed as the README's C quickstart prints it ("code_name: message"),
 * must equal the table's text once the authority URL and the UUIDs are replaced by
 * {authority} and {uuid}. Java, C# and Node compare their own text with the same rows.
 * Usage: test_error_texts TABLE (PAYTRIM_TEST_HTTPS and PAYTRIM_TEST_CA from tests/c/run.sh).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paytrim_auth.h"

#define REFUSED "https://127.0.0.1:1"

static int is_uuid_at(const char *s) {
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return 0;
    }
    return 1;
}

/* The text with `authority` replaced by {authority} and every UUID by {uuid}; caller frees. */
static char *normalize(const char *text, const char *authority) {
    size_t alen = strlen(authority);
    char *out = malloc(strlen(text) * 2 + 32);
    char *o = out;
    for (const char *p = text; *p;) {
        if (strncmp(p, authority, alen) == 0) {
            o += sprintf(o, "{authority}");
            p += alen;
        } else if (is_uuid_at(p)) {
            o += sprintf(o, "{uuid}");
            p += 36;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static void set(paytrim_auth_config *c, const char *key, const char *value) {
    paytrim_auth_error *err = paytrim_auth_config_set(c, key, value);
    if (err) {
        fprintf(stderr, "config_set %s: %s\n", key, paytrim_auth_error_message(err));
        exit(2);
    }
}

int main(int argc, char **argv) {
    const char *https = getenv("PAYTRIM_TEST_HTTPS"), *ca = getenv("PAYTRIM_TEST_CA");
    FILE *table = argc == 2 ? fopen(argv[1], "r") : NULL;
    if (!table || !https || !ca) {
        fprintf(stderr, "usage: PAYTRIM_TEST_HTTPS=... PAYTRIM_TEST_CA=... test_error_texts tests/error_texts.tsv\n");
        return 2;
    }
    char line[4096];
    int rows = 0, failed = 0, header = 1;
    while (fgets(line, sizeof line, table)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#') continue;
        char *f[6];
        int n = 0;
        for (char *p = line; n < 6; n++) {
            f[n] = p;
            char *tab = strchr(p, '\t');
            if (!tab) { n++; break; }
            *tab = '\0';
            p = tab + 1;
        }
        if (n != 6) {
            fprintf(stderr, "malformed row (%d columns): %s\n", n, f[0]);
            return 2;
        }
        if (header) { header = 0; continue; }
        const char *authority = strcmp(f[3], "refused") == 0 ? REFUSED : https;
        paytrim_auth_config *config = paytrim_auth_config_new();
        set(config, "authority_host", authority);
        set(config, "tenant", f[1]);
        set(config, "max_attempts", "1");
        if (strcmp(f[4], "yes") == 0) set(config, "ca_file", ca);
        paytrim_auth_client *client = NULL;
        paytrim_auth_error *err =
            paytrim_auth_client_new("11111111-1111-1111-1111-111111111111", f[2], config, &client);
        paytrim_auth_config_free(config);
        char *token = NULL;
        int64_t expires = 0;
        if (!err) err = paytrim_auth_client_get_token(client, &token, &expires);
        paytrim_auth_string_free(token);
        paytrim_auth_client_free(client);
        rows++;
        if (!err) {
            printf("FAIL %s: no error\n", f[0]);
            failed++;
            continue;
        }
        /* The text the README's C quickstart prints. */
        const char *name = paytrim_auth_error_code_name(paytrim_auth_error_code(err));
        const char *message = paytrim_auth_error_message(err);
        char *text = malloc(strlen(name) + strlen(message) + 3);
        sprintf(text, "%s: %s", name, message);
        char *got = normalize(text, authority);
        if (strcmp(got, f[5]) != 0) {
            printf("FAIL %s:\n  expected %s\n  got      %s\n", f[0], f[5], got);
            failed++;
        } else {
            printf("ok   %s\n", f[0]);
        }
        free(got);
        free(text);
        paytrim_auth_error_free(err);
    }
    fclose(table);
    printf("error texts: %d rows, %d failed\n", rows, failed);
    return failed || rows == 0 ? 1 : 0;
}
