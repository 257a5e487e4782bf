#!/usr/bin/env bash
# Measures the cache-hit cost of GetToken() under Mono against the emulator.
# Builds build/Bench.exe when missing; PAYTRIM_AUTH_LIB and PAYTRIM_EMULATOR default to target/release.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac
EMU="${PAYTRIM_EMULATOR:-$target_dir/release/paytrim-entra-emulator}"
LIB="${PAYTRIM_AUTH_LIB:-$target_dir/release/libpaytrim_auth.so}"
[ -f "$LIB" ] && [ -x "$EMU" ] || (cd "$ROOT" && cargo build --release -q -p paytrim-auth -p paytrim-entra-emulator)
if [ ! -f "$HERE/build/Bench.exe" ]; then
  # Same build as test.sh, without the tests.
  mkdir -p "$HERE/build"
  MCS=(mcs -langversion:7.2 -debug- -optimize+ -nologo -warnaserror+)
  "${MCS[@]}" -target:library -unsafe -out:"$HERE/build/Paytrim.Auth.dll" "$HERE"/src/*.cs
  "${MCS[@]}" -target:exe -out:"$HERE/build/Bench.exe" -r:"$HERE/build/Paytrim.Auth.dll" "$HERE/bench/Bench.cs"
  cp "$HERE/src/Paytrim.Auth.dll.config" "$HERE/build/"
fi
cp "$LIB" "$HERE/build/libpaytrim_auth.so"
coproc EMUP { exec "$EMU" --exit-on-stdin-eof; }
trap 'exec {EMUP[1]}>&-; wait' EXIT
read -r ready <&"${EMUP[0]}"
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$ready"; }
export PAYTRIM_AUTHORITY_HOST="$(field https)" PAYTRIM_CA_FILE="$(field ca_file)"
export PAYTRIM_CLIENT_ID="$(field client_id)" PAYTRIM_CLIENT_SECRET="$(field client_secret)"
export PAYTRIM_TENANT_ID="72f988bf-86f1-41af-91ab-2d7cd011db47"
cd "$HERE/build"
mono --optimize=all Bench.exe "${1:-1000000}"
