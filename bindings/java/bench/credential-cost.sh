#!/usr/bin/env bash
# Cold fetch and cache hit of each credential kind through the Java wrapper
# (bench/CredentialCost.java, using the test helpers: emulator, openssl-made
# certificate). Usage: bench/credential-cost.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
lib="${PAYTRIM_AUTH_LIB:-$target_dir/release/libpaytrim_auth.so}"
emu="${PAYTRIM_EMULATOR:-$target_dir/release/paytrim-entra-emulator}"
[[ -f "$lib" && -x "$emu" ]] || (cd "$root" && cargo build --release -q -p paytrim-auth -p paytrim-entra-emulator)
(cd "$here" && mvn -q -B -Dpaytrim.native.dir="$(dirname "$lib")" test-compile | sed 's/\x1b\[0m//g' >&2)
gson="$(find "${HOME}/.m2" -name 'gson-2.10.1.jar' | head -1)"
cp="$here/target/classes:$here/target/test-classes:$gson"
out="$here/target/bench"
mkdir -p "$out"
javac -d "$out" -cp "$cp" "$here/bench/CredentialCost.java"
java -cp "$out:$cp" -Dpaytrim.auth.library="$lib" -Dpaytrim.emulator="$emu" com.paytrim.auth.CredentialCost
