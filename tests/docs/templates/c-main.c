/* A C snippet inside main(), with the variables the README's fragments assume. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paytrim_auth.h"

int main(void) {
    paytrim_auth_error *err = NULL;
    @snippet
    paytrim_auth_error_free(err);
    paytrim_auth_client_free(client);
    paytrim_auth_config_free(config);
    return 0;
}
