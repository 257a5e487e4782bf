#!/usr/bin/env bash
# Builds and runs examples/GetToken.cs (prints the documented token JSON).
# Reads PAYTRIM_CLIENT_ID, PAYTRIM_CLIENT_SECRET, PAYTRIM_TENANT_ID, PAYTRIM_SCOPE,
# PAYTRIM_AUTHORITY_HOST, PAYTRIM_TOKEN_URL, PAYTRIM_CA_FILE; PAYTRIM_AUTH_LIB names the
# native library (default: target/release, built when missing).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
if ! command -v mcs >/dev/null 2>&1 || ! command -v mono >/dev/null 2>&1; then
  SUDO=""; if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get install -y --no-install-recommends mono-mcs mono-runtime \
    || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends mono-mcs mono-runtime; }
fi
if [ -z "${PAYTRIM_AUTH_LIB:-}" ]; then
  PAYTRIM_AUTH_LIB="$target_dir/release/libpaytrim_auth.so"
  [ -f "$PAYTRIM_AUTH_LIB" ] || (cd "$ROOT" && cargo build --release -p paytrim-auth >&2)
fi
mcs -langversion:7.2 -nologo -target:library -unsafe -out:"$OUT/Paytrim.Auth.dll" "$HERE"/src/*.cs >&2
mcs -langversion:7.2 -nologo -target:exe -out:"$OUT/GetToken.exe" -r:"$OUT/Paytrim.Auth.dll" "$HERE/examples/GetToken.cs" >&2
cp "$HERE/src/Paytrim.Auth.dll.config" "$PAYTRIM_AUTH_LIB" "$OUT/"
mono "$OUT/GetToken.exe"
