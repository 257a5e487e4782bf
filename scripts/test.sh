#!/usr/bin/env bash
# Runs every test in every language: Rust (unit, integration against the
# emulator, header drift), C (ABI test under valgrind, example), Java, C#, Node.
# Installs what it needs from the project's own files. Usage: scripts/test.sh
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive

need_apt=()
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v gcc >/dev/null || need_apt+=(gcc)
command -v g++ >/dev/null || need_apt+=(g++)
# Tests make RSA keys, certificates and PKCS#12 files at run time.
command -v openssl >/dev/null || need_apt+=(openssl)
# The interop suite runs a third-party OAuth server (oidc-provider) on Node.
command -v npm >/dev/null || need_apt+=(nodejs npm)
# The cache-tier tests (tests/cache_tiers.rs) run a real Redis, plain and TLS.
command -v redis-server >/dev/null || need_apt+=(redis-server)
# The C install suite builds against the installed library with pkg-config and CMake.
command -v pkg-config >/dev/null || need_apt+=(pkgconf)
command -v cmake >/dev/null || need_apt+=(cmake)
if ((${#need_apt[@]})); then
    echo "== installing ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "== building the library and the emulator (release)"
cargo build --release --locked -p paytrim-auth -p paytrim-entra-emulator || exit 1
export PAYTRIM_AUTH_LIB="$target_dir/release/libpaytrim_auth.so"
export PAYTRIM_EMULATOR="$target_dir/release/paytrim-entra-emulator"

passed=0 failed=0 failures=()
suite() {
    local name="$1"; shift
    local t0=$(date +%s)
    echo "== $name"
    if "$@"; then
        passed=$((passed + 1)); echo "== $name: ok ($(( $(date +%s) - t0 )) s)"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "== $name: FAILED ($(( $(date +%s) - t0 )) s)"
    fi
}

# Suites reach their loopback emulators directly: they run with every proxy
# variable pointing at a dead proxy and NO_PROXY unset, as on a developer
# machine behind a corporate proxy.
dead_proxy_env() {
    env -u NO_PROXY -u no_proxy HTTPS_PROXY=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
        HTTP_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
        all_proxy=http://127.0.0.1:9 "$@"
}

rust_checks() {
    cargo fmt --all --check &&
        cargo clippy --locked --workspace --all-targets -q -- -D warnings &&
        dead_proxy_env cargo test --locked --workspace
}
suite "rust" rust_checks
suite "c" tests/c/run.sh "$target_dir/release" "$PAYTRIM_EMULATOR"
# scripts/install.sh into a temporary prefix; the example built with pkg-config and CMake, shared and static.
suite "c-install" tests/c/installed.sh "$PAYTRIM_EMULATOR"
# The certificate credential against panva's oidc-provider (a real private_key_jwt server), from its lockfile.
interop() {
    (cd tests/interop && npm ci --no-audit --no-fund --silent) &&
        cargo test --locked --test interop -- --ignored
}
suite "interop" interop
# About a minute, forking every 3 s; PAYTRIM_SOAK_SECONDS=3600 for a long soak.
suite "soak" tests/c/soak.sh "$target_dir/release" "$PAYTRIM_EMULATOR"
# cargo-fuzz, 10 s per target (installed if missing); PAYTRIM_FUZZ_SECONDS=600 for a long run.
suite "fuzz" scripts/fuzz.sh
# ASan builds of the library (nightly): the C ABI tests under gcc ASan+UBSan, and the
# Rust tests under ASan + LeakSanitizer (several minutes: one instrumented build).
suite "sanitizers" scripts/sanitize.sh asan-c asan-rust
for lang in java csharp node; do
    if [[ -x "bindings/$lang/test.sh" ]]; then
        suite "$lang" "bindings/$lang/test.sh"
    fi
done

# Packaging (about 2 min): actionlint on .github/workflows, scripts/package.sh with all eight
# platforms (layout) and with this library (into $target_dir/packages), each package installed
# into an empty project and used against the emulator, JDK 25's native-access check, mvn package
# without a library, CARGO_TARGET_DIR.
suite "packaging" tests/packaging/run.sh

# Every snippet of README.md and the bindings' READMEs, compiled and run from a temp folder against
# the packages and the emulator (after the wrapper suites, whose jar and nupkg it reuses).
suite "docs" tests/docs/run.sh

echo
echo "== total time: $(( $(date +%s) - start )) s"
((failed)) && echo "== failed suites: ${failures[*]}"
echo "suites: $passed passed, $failed failed"
((failed == 0))
