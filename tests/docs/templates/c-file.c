/* A C snippet at file scope (functions), with the headers the README's fragments assume. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paytrim_auth.h"

@snippet
