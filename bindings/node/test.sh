#!/usr/bin/env bash
# Runs the Node wrapper's whole suite: npm ci, then node:test against the
# project's Entra emulator (started by the tests themselves).
#   PAYTRIM_AUTH_LIB  absolute path of libpaytrim_auth.so   (default: built here)
#   PAYTRIM_EMULATOR  absolute path of paytrim-entra-emulator (default: built here)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$REPO/$target_dir"

if [[ -z "${PAYTRIM_AUTH_LIB:-}" || -z "${PAYTRIM_EMULATOR:-}" ]]; then
  echo "== building libpaytrim_auth and the emulator (cargo build --release)"
  (cd "$REPO" && cargo build --release -p paytrim-auth -p paytrim-entra-emulator)
  export PAYTRIM_AUTH_LIB="${PAYTRIM_AUTH_LIB:-$target_dir/release/libpaytrim_auth.so}"
  export PAYTRIM_EMULATOR="${PAYTRIM_EMULATOR:-$target_dir/release/paytrim-entra-emulator}"
fi
export PAYTRIM_AUTH_LIB PAYTRIM_EMULATOR
for f in "$PAYTRIM_AUTH_LIB" "$PAYTRIM_EMULATOR"; do
  [[ -f "$f" ]] || { echo "missing: $f" >&2; exit 1; }
done

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "== installing nodejs and npm (apt)"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nodejs npm
fi

if ! command -v openssl >/dev/null; then
  echo "== installing openssl (apt; the credential tests make a certificate with it)"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq openssl
fi

cd "$HERE"
echo "== node $(node --version), npm $(npm --version)"
echo "== npm ci"
npm ci --no-audit --no-fund

# @azure/core-rest-pipeline for test/azure-pipeline (its own lockfile), installed here, before
# the proxy variables below point at a dead port.
echo "== npm ci (test/azure-pipeline)"
(cd test/azure-pipeline && npm ci --no-audit --no-fund --silent)

# The package carries the native library under prebuilds/<platform>-<arch>/
# (git-ignored); the packaging test packs it into the tarball.
mkdir -p prebuilds/linux-x64
cp -f "$PAYTRIM_AUTH_LIB" prebuilds/linux-x64/libpaytrim_auth.so

# The tests talk only to loopback servers they start (npm ci is done), so a proxy in the
# environment must not matter: every run proves it by pointing each proxy variable at a dead
# port, NO_PROXY unset. The packaging test installs offline, from the packed tarball.
dead=http://127.0.0.1:9
export HTTPS_PROXY=$dead https_proxy=$dead HTTP_PROXY=$dead http_proxy=$dead ALL_PROXY=$dead all_proxy=$dead
unset NO_PROXY no_proxy

echo "== node --test"
# The worker_threads scenarios (50 rounds each of workers started and ended
# mid-fetch) take minutes on a loaded 2-core machine: their own run, with a
# budget to match (PAYTRIM_NODE_WORKER_ROUNDS changes the rounds).
mapfile -t files < <(ls test/*.test.js | grep -v '/workers\.test\.js$')
node --test --test-reporter=tap --test-timeout=180000 "${files[@]}"
# @azure/core-rest-pipeline's own bearerTokenAuthenticationPolicy with the client as its
# TokenCredential (its own lockfile in test/azure-pipeline; needs openssl for the API's certificate).
echo "== node --test test/azure-pipeline"
node --test --test-reporter=tap --test-timeout=120000 test/azure-pipeline/bearer-policy.js
node --test --test-reporter=tap --test-timeout=1200000 test/workers.test.js
# Windows has no socket pair: there notifiers wake up over a loopback TCP
# connection (lib/loopback-wake.js). PAYTRIM_AUTH_NOTIFIER=loopback forces that
# path here: the suites that go through the notifier (wake-ups, logs, assertion
# requests, workers ended mid-fetch) run once more through it.
echo "== node --test through the loopback wake-up channel (PAYTRIM_AUTH_NOTIFIER=loopback)"
PAYTRIM_AUTH_NOTIFIER=loopback PAYTRIM_NODE_WORKER_ROUNDS="${PAYTRIM_NODE_LOOPBACK_WORKER_ROUNDS:-10}" \
  node --test --test-reporter=tap --test-timeout=600000 \
  test/wakeups.test.js test/logging.test.js test/credentials.test.js test/workers.test.js
