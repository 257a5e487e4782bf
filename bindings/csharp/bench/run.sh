#!/usr/bin/env bash
# Measures the cache-hit cost of GetToken() under Mono against the emulator.
# Needs a prior ./test.sh (for build/) and PAYTRIM_EMULATOR (default: target/release).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
EMU="${PAYTRIM_EMULATOR:-$ROOT/target/release/paytrim-entra-emulator}"
[ -f "$HERE/build/Bench.exe" ] || { echo "run ./test.sh first (it builds build/Bench.exe)" >&2; exit 1; }
coproc EMUP { exec "$EMU" --exit-on-stdin-eof; }
trap 'exec {EMUP[1]}>&-; wait' EXIT
read -r ready <&"${EMUP[0]}"
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$ready"; }
export PAYTRIM_AUTHORITY_HOST="$(field https)" PAYTRIM_CA_FILE="$(field ca_file)"
export PAYTRIM_CLIENT_ID="$(field client_id)" PAYTRIM_CLIENT_SECRET="$(field client_secret)"
export PAYTRIM_TENANT_ID="72f988bf-86f1-41af-91ab-2d7cd011db47"
cd "$HERE/build"
mono --optimize=all Bench.exe "${1:-1000000}"
