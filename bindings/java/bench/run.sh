#!/usr/bin/env bash
# Java cache-hit benchmark: builds the jar if needed, starts the emulator,
# runs bench/HitCost.java. Usage: bench/run.sh [calls per round]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
lib="${PAYTRIM_AUTH_LIB:-$target_dir/release/libpaytrim_auth.so}"
emu="${PAYTRIM_EMULATOR:-$target_dir/release/paytrim-entra-emulator}"
[[ -f "$lib" && -x "$emu" ]] || (cd "$root" && cargo build --release -q -p paytrim-auth -p paytrim-entra-emulator)
jar="$here/target/paytrim-auth-0.1.0.jar"
[[ -f "$jar" ]] || (cd "$here" && mvn -q -B -DskipTests -Dpaytrim.native.dir="$(dirname "$lib")" package | sed 's/\x1b\[0m//g' >&2)
out="$here/target/bench"
mkdir -p "$out"
javac -d "$out" -cp "$jar" "$here/bench/HitCost.java"
coproc EMU { exec "$emu" --exit-on-stdin-eof; }
trap 'exec {EMU[1]}>&-; wait "$EMU_PID" 2>/dev/null || true' EXIT
read -r ready <&"${EMU[0]}"
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
export PAYTRIM_CLIENT_ID="$(field client_id)" PAYTRIM_CLIENT_SECRET="$(field client_secret)"
export PAYTRIM_AUTHORITY_HOST="$(field https)" PAYTRIM_CA_FILE="$(field ca_file)"
export PAYTRIM_TENANT_ID=contoso.onmicrosoft.com
java -Dpaytrim.auth.library="$lib" -cp "$jar:$out" HitCost "${1:-500000}"
