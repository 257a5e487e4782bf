/* A stand-in libpaytrim_auth.so with a different ABI version, to test the load-time check. */
#include <stdint.h>
uint32_t paytrim_auth_abi_version(void) { return 99; }
const char *paytrim_auth_version(void) { return "99.0.0-fake"; }
