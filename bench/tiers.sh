#!/usr/bin/env bash
# The cache tiers' numbers for BENCHMARKS.md (issue 14.5): a new process's
# first token from the network (emulator), from a warm on-host tier and from
# Redis; and a fleet restart of 64 processes with and without the tiers
# (requests the emulator received, slowest process). Each process is
# bench/c/tierprobe.c, which dlopens the release cdylib.
#   bench/tiers.sh            # about a minute after the build
#   TIERS_RUNS=50 bench/tiers.sh
# Needs gcc and redis-server (apt-get install gcc redis-server).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
for tool in gcc redis-server; do
    command -v "$tool" >/dev/null || {
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$tool" >/dev/null
    }
done
cargo build --release --locked -q -p paytrim-auth -p paytrim-entra-emulator
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
gcc -O2 -Wall -Wextra -o "$tmp/tierprobe" bench/c/tierprobe.c -ldl
mkdir -p bench/results
python3 bench/tiers.py "$root/target/release/libpaytrim_auth.so" "$root/target/release/paytrim-entra-emulator" \
    "$tmp/tierprobe" "$tmp" | tee bench/results/tiers.md
