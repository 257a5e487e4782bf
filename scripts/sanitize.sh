#!/usr/bin/env bash
# Sanitizer runs (issue 12, item 6). What runs, and why the rest cannot here:
#  1. The C ABI tests (tests/c/test_*.c) built with gcc -fsanitize=address,undefined
#     against the library built with rustc -Zsanitizer=address (nightly), so heap
#     errors inside the library are caught too, not only in the C host.
#  2. The Rust integration and unit tests of paytrim-auth under AddressSanitizer
#     (nightly, -Zsanitizer=address, std itself not instrumented: no rust-src here).
#  3. ThreadSanitizer on the concurrency tests (single_flight, caching, logging)
#     with tests/tsan.supp suppressing reports whose racing frames are only in the
#     uninstrumented std (its atomics and futex-based locks are invisible to TSan).
#  Not run: Miri (needs the miri and rust-src components; neither is installed and
#  rustup cannot download them here) and -Zbuild-std (needs rust-src).
# Usage: scripts/sanitize.sh [asan-c] [asan-rust] [tsan]   (default: all three)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
triple=x86_64-unknown-linux-gnu
what=("$@")
((${#what[@]})) || what=(asan-c asan-rust tsan)
status=0
# Sanitizer flags are ABI-relevant "target modifiers"; std is uninstrumented.
allow="-Cunsafe-allow-abi-mismatch=sanitizer"

for w in "${what[@]}"; do
    case "$w" in
    asan-c)
        echo "== sanitize: C ABI tests, gcc ASan+UBSan host, library built with -Zsanitizer=address"
        RUSTFLAGS="-Zsanitizer=address $allow -Cforce-frame-pointers=yes" CARGO_TARGET_DIR="$root/target/asan" \
            cargo +nightly build --release --locked --target "$triple" -p paytrim-auth -p paytrim-entra-emulator \
            -q || { status=1; continue; }
        libdir="$root/target/asan/$triple/release"
        build="$root/target/c-asan"
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
        echo "== sanitize: Rust tests under AddressSanitizer (LeakSanitizer on)"
        RUSTFLAGS="-Zsanitizer=address $allow -Cforce-frame-pointers=yes" CARGO_TARGET_DIR="$root/target/asan" \
            ASAN_OPTIONS="detect_leaks=1" cargo +nightly test --locked --target "$triple" -p paytrim-auth \
            --lib --tests -q 2>&1 | grep -E "test result|ERROR: |SUMMARY|panicked|FAILED|error" ;
        ((PIPESTATUS[0] == 0)) || status=1
        ;;
    tsan)
        echo "== sanitize: concurrency tests under ThreadSanitizer (suppressions: tests/tsan.supp)"
        RUSTFLAGS="-Zsanitizer=thread $allow" CARGO_TARGET_DIR="$root/target/tsan" \
            TSAN_OPTIONS="suppressions=$root/tests/tsan.supp halt_on_error=1 report_signal_unsafe=0" \
            cargo +nightly test --locked --target "$triple" -p paytrim-auth --lib --test single_flight \
            --test caching --test logging -q -- --test-threads=2 2>&1 | grep -E "test result|WARNING: ThreadSanitizer|SUMMARY|panicked|FAILED|error" ;
        ((PIPESTATUS[0] == 0)) || status=1
        ;;
    *) echo "unknown: $w"; status=1 ;;
    esac
done
exit $status
