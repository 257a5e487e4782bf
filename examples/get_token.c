/*
 * get_token: the documented curl call, through paytrim-auth's C ABI.
 *
 * Reads PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET and, when set,
 * PAYTRIM_TENANT_ID, PAYTRIM_SCOPE, PAYTRIM_AUTHORITY_HOST, PAYTRIM_TOKEN_URL
 * and PAYTRIM_CA_FILE; prints the documented token JSON
 * {"token_type":"Bearer","expires_in":...,"access_token":"..."}.
 *
 *   cc -Iinclude examples/get_token.c -Ltarget/release -lpaytrim_auth -o get_token
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paytrim_auth.h"

static int fail(paytrim_auth_error *err, const char *what) {
    fprintf(stderr, "%s failed [%s]: %s\n", what,
            paytrim_auth_error_code_name(paytrim_auth_error_code(err)),
            paytrim_auth_error_message(err));
    paytrim_auth_error_free(err);
    return 1;
}

/* Applies an environment variable to a config key when it is set. */
static paytrim_auth_error *set_from_env(paytrim_auth_config *config, const char *key, const char *var) {
    const char *value = getenv(var);
    if (value == NULL || value[0] == '\0') {
        return NULL;
    }
    return paytrim_auth_config_set(config, key, value);
}

int main(void) {
    const char *client_id = getenv("PAYTRIM_CLIENT_ID");
    const char *client_secret = getenv("PAYTRIM_CLIENT_SECRET");
    if (client_id == NULL || client_secret == NULL) {
        fprintf(stderr, "set PAYTRIM_CLIENT_ID and PAYTRIM_CLIENT_SECRET\n");
        return 2;
    }

    paytrim_auth_config *config = paytrim_auth_config_new();
    static const char *const keys[][2] = {
        {"tenant", "PAYTRIM_TENANT_ID"},         {"scope", "PAYTRIM_SCOPE"},
        {"authority_host", "PAYTRIM_AUTHORITY_HOST"}, {"token_url", "PAYTRIM_TOKEN_URL"},
        {"ca_file", "PAYTRIM_CA_FILE"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        paytrim_auth_error *err = set_from_env(config, keys[i][0], keys[i][1]);
        if (err != NULL) {
            paytrim_auth_config_free(config);
            return fail(err, "configuration");
        }
    }

    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new(client_id, client_secret, config, &client);
    paytrim_auth_config_free(config); /* the client keeps its own copy */
    if (err != NULL) {
        return fail(err, "paytrim_auth_client_new");
    }

    char *json = NULL;
    err = paytrim_auth_client_get_token_json(client, &json);
    if (err != NULL) {
        paytrim_auth_client_free(client);
        return fail(err, "paytrim_auth_client_get_token_json");
    }
    printf("%s\n", json);
    paytrim_auth_string_free(json);
    paytrim_auth_client_free(client);
    return 0;
}
