/*
 * get_token: the documented curl call, through paytrim-auth's C ABI.
 *
 * Builds the client from the environment (PAYTRIM_CLIENT_ID, PAYTRIM_TENANT_ID
 * and one credential: PAYTRIM_CLIENT_SECRET, PAYTRIM_CLIENT_CERTIFICATE_PATH,
 * PAYTRIM_FEDERATED_TOKEN_FILE or PAYTRIM_MANAGED_IDENTITY, or the AZURE_*
 * equivalents; optional PAYTRIM_SCOPE, PAYTRIM_AUTHORITY_HOST,
 * PAYTRIM_TOKEN_URL, PAYTRIM_CA_FILE: see the README); prints the documented token JSON
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

int main(void) {
    /* Client id, tenant and credential (secret, certificate, federated token
     * file or managed identity) from PAYTRIM_* / AZURE_* variables. */
    paytrim_auth_client *client = NULL;
    paytrim_auth_error *err = paytrim_auth_client_new_from_environment(NULL, &client);
    if (err != NULL) {
        return fail(err, "paytrim_auth_client_new_from_environment");
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
