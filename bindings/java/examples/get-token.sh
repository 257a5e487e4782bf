#!/usr/bin/env bash
# Prints the documented token JSON through the Java wrapper:
#   {"token_type":"Bearer","expires_in":...,"access_token":"..."}
# Reads PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET, PAYTRIM_TENANT_ID, PAYTRIM_SCOPE,
# PAYTRIM_AUTHORITY_HOST, PAYTRIM_TOKEN_URL, PAYTRIM_CA_FILE (unset/empty = default).
# Builds the jar first if it is missing (needs PAYTRIM_AUTH_LIB or target/release/libpaytrim_auth.so).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
jar="$here/target/paytrim-auth-0.1.0.jar"
if [[ ! -f "$jar" ]]; then
  lib="${PAYTRIM_AUTH_LIB:-$root/target/release/libpaytrim_auth.so}"
  if [[ ! -f "$lib" ]]; then
    (cd "$root" && cargo build --release -p paytrim-auth >&2)
  fi
  (cd "$here" && mvn -q -B -DskipTests -Dpaytrim.native.dir="$(dirname "$lib")" package | sed 's/\x1b\[0m//g' >&2)
fi
exec java -cp "$jar" com.paytrim.auth.examples.GetToken
