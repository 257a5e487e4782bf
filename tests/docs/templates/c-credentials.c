/* A C snippet at file scope, with the signer the README's credential fragment assumes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paytrim_auth.h"

static void *my_state = NULL;

static void my_state_free(void *state) {
    (void)state;
}

static char *my_signer(void *state, const char *client_id, const char *audience) {
    (void)state;
    (void)client_id;
    (void)audience;
    return NULL;
}

@snippet
