#!/usr/bin/env bash
# Sanitizer run (issue 12, item 6): the C ABI tests (tests/c/test_ffi.c, test_log.c,
# test_bad_inputs.c) built with gcc -fsanitize=address,undefined (LeakSanitizer on)
# against the library built with rustc -Zsanitizer=address (nightly; std itself is
# not instrumented: -Zbuild-std needs rust-src, which is not installed), so heap
# errors inside the library are caught too, not only in the C host. Part of
# scripts/test.sh.
# asan-rust: the Rust unit tests and most integration tests under ASan + LeakSanitizer.
# Not here: Miri (the miri and rust-src components are not installed and cannot be
# downloaded here).
# Usage: scripts/sanitize.sh [asan-c] [asan-rust]   (default: both)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
triple=x86_64-unknown-linux-gnu
what=("$@")
((${#what[@]})) || what=(asan-c asan-rust)
status=0
# Sanitizer flags are ABI-relevant "target modifiers"; std is uninstrumented.
allow="-Cunsafe-allow-abi-mismatch=sanitizer"

for w in "${what[@]}"; do
    case "$w" in
    asan-c)
        echo "== sanitize: C ABI tests, gcc ASan+UBSan host, library built with -Zsanitizer=address"
        RUSTFLAGS="-Zsanitizer=address $allow -Cforce-frame-pointers=yes" CARGO_TARGET_DIR="$target_dir/asan" \
            cargo +nightly build --locked --target "$triple" -p paytrim-auth -p paytrim-entra-emulator \
            -q || { status=1; continue; }
        # Debug profile: the same build the Rust tests under ASan use.
        libdir="$target_dir/asan/$triple/debug"
        build="$target_dir/c-asan"
        mkdir -p "$build"
        ok=1
        for t in test_ffi test_log test_bad_inputs; do
            gcc -std=c11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined -I"$root/include" -pthread "$root/tests/c/$t.c" -L"$libdir" \
                -lpaytrim_auth -Wl,-rpath,"$libdir" -o "$build/$t" || ok=0
        done
        ((ok)) || { status=1; continue; }
        (
            coproc EMU { exec "$libdir/paytrim-entra-emulator" --exit-on-stdin-eof; }
            read -r ready <&"${EMU[0]}"
            field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
            export PAYTRIM_TEST_HTTPS="$(field https)" PAYTRIM_TEST_HTTP="$(field http)" PAYTRIM_TEST_CA="$(field ca_file)"
            export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1" UBSAN_OPTIONS="print_stacktrace=1"
            rc=0
            "$build/test_ffi" || rc=1
            "$build/test_log" || rc=1
            "$build/test_bad_inputs" "$root/tests/bad_inputs.tsv" || rc=1
            exec {EMU[1]}>&-
            exit $rc
        ) || status=1
        ;;
    asan-rust)
        # The core's unit tests and the integration tests that need no child
        # cargo build (secret_memory builds the emulator with cargo, and its
        # /proc/self/mem scan is not meaningful beside ASan's shadow memory).
        echo "== sanitize: Rust tests under AddressSanitizer (nightly, -Zsanitizer=address, LeakSanitizer on)"
        RUSTFLAGS="-Zsanitizer=address $allow -Cforce-frame-pointers=yes" CARGO_TARGET_DIR="$target_dir/asan" \
            ASAN_OPTIONS="detect_leaks=1" \
            cargo +nightly test --locked --no-fail-fast --target "$triple" -p paytrim-auth --lib \
            --test caching --test single_flight --test edges --test credentials --test managed_identity \
            --test logging --test errors || status=1
        ;;
    *) echo "unknown: $w"; status=1 ;;
    esac
done
exit $status
