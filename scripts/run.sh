#!/usr/bin/env bash
# The main job: build the library and print the documented token JSON,
# fetched through the C ABI (and, on request, through the Java, C# and Node
# wrappers). With no PAYTRIM_CLIENT_ID in the environment, the bundled local
# Entra emulator is started and used.
#
#   scripts/run.sh                 # C example
#   scripts/run.sh all             # C, Java, C#, Node examples
#   scripts/run.sh c node          # a chosen set
#
# Real credentials, read by paytrim_auth_client_new_from_environment (the C
# example): PAYTRIM_CLIENT_ID, PAYTRIM_TENANT_ID and one credential
# (PAYTRIM_CLIENT_SECRET, PAYTRIM_CLIENT_CERTIFICATE_PATH [+ _PASSWORD],
# PAYTRIM_FEDERATED_TOKEN_FILE, PAYTRIM_MANAGED_IDENTITY), or the AZURE_*
# variables (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET,
# AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE, ...); optionally
# PAYTRIM_SCOPE, PAYTRIM_AUTHORITY_HOST, PAYTRIM_TOKEN_URL, PAYTRIM_CA_FILE.
# See the README's table.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
langs=("$@")
((${#langs[@]})) || langs=(c)
[[ "${langs[*]}" == "all" ]] && langs=(c java csharp node)

echo "== building paytrim-auth (release)" >&2
cargo build --release --quiet -p paytrim-auth -p paytrim-entra-emulator
export PAYTRIM_AUTH_LIB="$target_dir/release/libpaytrim_auth.so"
export PAYTRIM_EMULATOR="$target_dir/release/paytrim-entra-emulator"

if [[ -z "${PAYTRIM_CLIENT_ID:-}${AZURE_CLIENT_ID:-}${PAYTRIM_MANAGED_IDENTITY:-}" ]]; then
    echo "== no PAYTRIM_CLIENT_ID: starting the local Entra emulator" >&2
    coproc EMU { exec "$PAYTRIM_EMULATOR" --exit-on-stdin-eof; }
    read -r ready <&"${EMU[0]}"
    trap 'exec {EMU[1]}>&-; wait "$EMU_PID" 2>/dev/null || true' EXIT
    field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
    export PAYTRIM_CLIENT_ID="$(field client_id)" PAYTRIM_CLIENT_SECRET="$(field client_secret)"
    export PAYTRIM_AUTHORITY_HOST="$(field https)" PAYTRIM_CA_FILE="$(field ca_file)"
    export PAYTRIM_TENANT_ID="${PAYTRIM_TENANT_ID:-contoso.onmicrosoft.com}"
    echo "== emulator at $PAYTRIM_AUTHORITY_HOST" >&2
fi

for lang in "${langs[@]}"; do
    case "$lang" in
        c)
            mkdir -p "$target_dir/examples"
            gcc -std=c11 -Wall -Wextra -Werror -Iinclude examples/get_token.c -L"$target_dir/release" \
                -lpaytrim_auth -Wl,-rpath,"$target_dir/release" -o "$target_dir/examples/get_token"
            echo "== C (examples/get_token.c)" >&2
            "$target_dir/examples/get_token" ;;
        java)
            echo "== Java (bindings/java, com.paytrim.auth.examples.GetToken)" >&2
            # get-token.sh loads PAYTRIM_AUTH_LIB (the library just built), not a copy inside an older jar.
            bindings/java/examples/get-token.sh ;;
        csharp)
            echo "== C# (bindings/csharp/examples/GetToken.cs on Mono)" >&2
            bindings/csharp/run-example.sh ;;
        node)
            echo "== Node (bindings/node/examples/get-token.js)" >&2
            [[ -d bindings/node/node_modules/koffi ]] ||
                (cd bindings/node && npm ci --no-audit --no-fund --silent >&2)
            node bindings/node/examples/get-token.js ;;
        *) echo "unknown language '$lang' (c, java, csharp, node, all)" >&2; exit 2 ;;
    esac
done
