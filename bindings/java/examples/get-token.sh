#!/usr/bin/env bash
# Prints the documented token JSON through the Java wrapper:
#   {"token_type":"Bearer","expires_in":...,"access_token":"..."}
# Reads PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET, PAYTRIM_TENANT_ID, PAYTRIM_SCOPE,
# PAYTRIM_AUTHORITY_HOST, PAYTRIM_TOKEN_URL, PAYTRIM_CA_FILE (unset/empty = default).
# Builds the jar first if it is missing (needs PAYTRIM_AUTH_LIB or target/release/libpaytrim_auth.so);
# with PAYTRIM_AUTH_LIB set, that library is loaded instead of the jar's copy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
jar="$here/target/paytrim-auth-0.1.0.jar"
if [[ ! -f "$jar" ]]; then
  lib="${PAYTRIM_AUTH_LIB:-$target_dir/release/libpaytrim_auth.so}"
  if [[ ! -f "$lib" ]]; then
    (cd "$root" && cargo build --release -p paytrim-auth >&2)
  fi
  # Maven 3.8 writes stray ANSI resets (to stderr too) even with -B: no colour, and strip what is left.
  (cd "$here" && mvn -q -B -Dstyle.color=never -DskipTests -Dpaytrim.native.dir="$(dirname "$lib")" package 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g' >&2)
fi
# PAYTRIM_AUTH_LIB set: load that library rather than the copy inside the jar (a system property on
# this one JVM, not JAVA_TOOL_OPTIONS, which every JVM, Maven's too, would announce on stderr).
exec java ${PAYTRIM_AUTH_LIB:+"-Dpaytrim.auth.library=$PAYTRIM_AUTH_LIB"} -cp "$jar" com.paytrim.auth.examples.GetToken
