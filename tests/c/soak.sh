#!/usr/bin/env bash
# Soak test through the C ABI (tests/c/soak.c) against its own emulator.
#   PAYTRIM_SOAK_SECONDS  run time (default 60; e.g. 3600 for a long soak)
#   PAYTRIM_SOAK_FORKS    default 1: the main thread forks every 3 s and each child must get valid tokens
#                         on both keys at once and again after the inherited tokens expired; 0: no forks
# Usage: tests/c/soak.sh [libdir] [emulator]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
libdir="${1:-$target_dir/release}"
emulator="${2:-$libdir/paytrim-entra-emulator}"
build="$target_dir/c-tests"
mkdir -p "$build"
gcc -std=c11 -Wall -Wextra -Werror -O2 -g -I"$root/include" -pthread "$root/tests/c/soak.c" -L"$libdir" \
    -lpaytrim_auth -Wl,-rpath,"$libdir" -o "$build/soak"

coproc EMU { exec "$emulator" --exit-on-stdin-eof; }
read -r ready <&"${EMU[0]}"
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
export PAYTRIM_TEST_HTTPS="$(field https)" PAYTRIM_TEST_HTTP="$(field http)" PAYTRIM_TEST_CA="$(field ca_file)"
trap 'exec {EMU[1]}>&-; wait "$EMU_PID" 2>/dev/null || true' EXIT
"$build/soak"
