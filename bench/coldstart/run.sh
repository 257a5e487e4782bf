#!/usr/bin/env bash
# Cold start: a new process's first token, paytrim-auth against Go's
# golang.org/x/oauth2 (clientcredentials): the same POST to the same
# emulator over HTTPS, with the same trust on every side, timed as whole
# processes in turn. Programs: a C program linked to libpaytrim_auth.so
# (cold.c), a Go program calling the library through cgo (gocgo/), and a Go
# program using x/oauth2 (go/). A benchmark, not a test: nothing here fails
# on a time.
#
# usage: bench/coldstart/run.sh [RUNS]     (default 30; ~1 minute)
#   COLDSTART_STORE=system   (default) both sides trust the system's store
#                            only; the emulator's CA is added to a copy of
#                            the system bundle (SSL_CERT_FILE), the system's
#                            hashed directory stays (SSL_CERT_DIR), no
#                            ca_file: what a process talking to Entra loads
#   COLDSTART_STORE=cafile   the system's store plus the emulator's CA given
#                            as ca_file (paytrim-auth) / appended to the
#                            system pool (Go)
#   COLDSTART_STORE=minimal  a store of one root: SSL_CERT_FILE is the
#                            emulator's CA, SSL_CERT_DIR an empty directory
#   PAYTRIM_BASELINE_LIB_DIR=DIR  also time cold.c linked to
#                            DIR/libpaytrim_auth.so (an older build)
# Needs: cargo, gcc, go (fetches golang.org/x/oauth2 from the Go proxy,
# pinned by go.sum), python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
runs=${1:-30}
store=${COLDSTART_STORE:-system}
out="$root/target/coldstart"
lib="$root/target/release"
mkdir -p "$out"

cargo build --release --locked -q -p paytrim-auth -p paytrim-entra-emulator
gcc -O2 -Wall -Wextra -I include -o "$out/coldc" bench/coldstart/cold.c -L "$lib" -lpaytrim_auth -Wl,-rpath,"$lib"
(cd bench/coldstart/go && go build -trimpath -o "$out/coldgo" .)
(cd bench/coldstart/gocgo && CGO_CFLAGS="-I$root/include" \
    CGO_LDFLAGS="-L$lib -lpaytrim_auth -Wl,-rpath,$lib" go build -trimpath -o "$out/coldcgo" .)
if [[ -n "${PAYTRIM_BASELINE_LIB_DIR:-}" ]]; then
    # A copy, with the link its soname asks for (libpaytrim_auth.so.0).
    mkdir -p "$out/baseline"
    cp "$PAYTRIM_BASELINE_LIB_DIR/libpaytrim_auth.so" "$out/baseline/"
    soname=$(readelf -d "$out/baseline/libpaytrim_auth.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [[ -z "$soname" || "$soname" == libpaytrim_auth.so ]] || ln -sf libpaytrim_auth.so "$out/baseline/$soname"
    gcc -O2 -I include -o "$out/coldc-baseline" bench/coldstart/cold.c \
        -L "$out/baseline" -lpaytrim_auth -Wl,-rpath,"$out/baseline"
fi

coproc EMU { exec "$lib/paytrim-entra-emulator" --exit-on-stdin-eof --verbose 2>"$out/emulator.log"; }
read -r ready <&"${EMU[0]}"
trap 'exec {EMU[1]}>&- 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true' EXIT
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
https=$(field https) ca=$(field ca_file) id=$(field client_id) secret=$(field client_secret)
tenant=contoso.onmicrosoft.com

case "$store" in
system)
    cat "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$ca" >"$out/system-plus-emulator.pem"
    export SSL_CERT_FILE="$out/system-plus-emulator.pem" SSL_CERT_DIR="${SSL_CERT_DIR:-/etc/ssl/certs}"
    cafile=- ;;
cafile) cafile="$ca" ;;
minimal)
    mkdir -p "$out/empty-cert-dir"
    export SSL_CERT_FILE="$ca" SSL_CERT_DIR="$out/empty-cert-dir"
    cafile=- ;;
*) echo "COLDSTART_STORE: system, cafile or minimal" >&2; exit 2 ;;
esac

baseline=()
if [[ -n "${PAYTRIM_BASELINE_LIB_DIR:-}" ]]; then
    baseline=(--cmd baseline "$out/coldc-baseline" "$https" "$tenant" "$cafile" "$id" "$secret")
fi
echo "machine: $(nproc) cores, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg); go: $(go env GOVERSION)"
echo "store: $store; SSL_CERT_FILE=${SSL_CERT_FILE:-unset} ($(grep -c BEGIN "${SSL_CERT_FILE:-/dev/null}" || true) certificates)" \
     "SSL_CERT_DIR=${SSL_CERT_DIR:-unset}; ca_file: $cafile"
python3 bench/coldstart/compare.py --runs "$runs" "${baseline[@]}" \
    --cmd "paytrim (C)" "$out/coldc" "$https" "$tenant" "$cafile" "$id" "$secret" \
    --cmd "paytrim (Go+cgo)" "$out/coldcgo" "$https" "$tenant" "$cafile" "$id" "$secret" \
    --cmd x/oauth2 "$out/coldgo" "$https/$tenant/oauth2/v2.0/token" "$cafile" "$id" "$secret"
echo "requests the emulator answered: $(grep -c 'POST' "$out/emulator.log" || true) (of $(( (runs + 2) * (${#baseline[@]} > 0 ? 4 : 3) )))"
