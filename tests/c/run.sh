#!/usr/bin/env bash
# Builds the C ABI test with -Wall -Wextra -Werror against the committed
# header and runs it under valgrind (zero leaks, zero errors) against the
# emulator; then the host-process test (fork, SIGPIPE) natively. Usage: tests/c/run.sh [libdir] [emulator]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
libdir="${1:-$target_dir/release}"
emulator="${2:-$libdir/paytrim-entra-emulator}"
build="$target_dir/c-tests"
mkdir -p "$build"

cc_flags=(-std=c11 -Wall -Wextra -Werror -Wpedantic -g -I"$root/include")
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_ffi.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_ffi"
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_log.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_log"
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_bad_inputs.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_bad_inputs"
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_managed_identity.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_managed_identity"
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_credentials.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_credentials"
gcc "${cc_flags[@]}" "$root/tests/c/test_error_texts.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_error_texts"
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_config_effects.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_config_effects"
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_outputs_cleared.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_outputs_cleared"
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_scopes.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_scopes"
gcc "${cc_flags[@]}" -pthread "$root/tests/c/test_process.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/test_process"
gcc "${cc_flags[@]}" "$root/examples/get_token.c" -L"$libdir" -lpaytrim_auth \
    -Wl,-rpath,"$libdir" -o "$build/get_token"
# The header also compiles as C++.
g++ -std=c++11 -Wall -Wextra -Werror -fsyntax-only -x c++ -I"$root/include" - <<<'#include "paytrim_auth.h"
int main() { return paytrim_auth_abi_version() == PAYTRIM_AUTH_ABI_VERSION ? 0 : 1; }'

# Every test reaches its loopback emulator directly (proxy=none, and loopback
# never uses an environment proxy): prove it with a dead proxy in every
# variable a user's shell may set.
dead_proxy="http://127.0.0.1:9"
export HTTPS_PROXY="$dead_proxy" https_proxy="$dead_proxy" HTTP_PROXY="$dead_proxy" http_proxy="$dead_proxy" \
    ALL_PROXY="$dead_proxy" all_proxy="$dead_proxy"
unset NO_PROXY no_proxy

coproc EMU { exec "$emulator" --exit-on-stdin-eof; }
read -r ready <&"${EMU[0]}"
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
export PAYTRIM_TEST_HTTPS="$(field https)" PAYTRIM_TEST_HTTP="$(field http)" PAYTRIM_TEST_CA="$(field ca_file)"
trap 'exec {EMU[1]}>&-; wait "$EMU_PID" 2>/dev/null || true' EXIT

valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_ffi"
valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_managed_identity"
valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_log"
# The timing and routing keys' effects, and freeing a client mid-fetch.
valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_config_effects"
# Every export's outputs cleared on every kind of failure.
valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_outputs_cleared"
valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_scopes"
# Keys and certificates for the credential test, made now (never committed).
certs="$(mktemp -d)"
trap 'rm -rf "$certs"; exec {EMU[1]}>&-; wait "$EMU_PID" 2>/dev/null || true' EXIT
"$root/tests/c/make-certs.sh" "$certs"
PAYTRIM_TEST_CERTS="$certs" valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_credentials"
valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_bad_inputs" "$root/tests/bad_inputs.tsv"
# One error text in every language: the shared table's failures, as the README's C code prints them.
valgrind --quiet --error-exitcode=99 --suppressions="$root/tests/c/valgrind.supp" --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect "$build/test_error_texts" "$root/tests/error_texts.tsv"

# The library inside a forking host with the default SIGPIPE action (fork
# with fetches in flight, during a background refresh, in a loop under load;
# connections reset mid-request). Native, not under valgrind: it forks dozens
# of children and counts on timing budgets.
"$build/test_process"

# The example program, as a user would run it.
PAYTRIM_CLIENT_ID=11111111-1111-1111-1111-111111111111 PAYTRIM_CLIENT_SECRET=your-client-secret \
PAYTRIM_TENANT_ID=contoso.onmicrosoft.com PAYTRIM_AUTHORITY_HOST="$PAYTRIM_TEST_HTTPS" \
PAYTRIM_CA_FILE="$PAYTRIM_TEST_CA" "$build/get_token" | python3 -c '
import json, sys
t = json.load(sys.stdin)
assert t["token_type"] == "Bearer" and t["access_token"] and 3500 < t["expires_in"] <= 3599, t.keys()
print("c-example: 1 passed, 0 failed")'
