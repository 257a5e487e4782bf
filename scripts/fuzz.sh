#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a fixed time, after replaying the
# saved regression inputs (fuzz/regressions/<target>/, one file per past
# crash). Prints executions, coverage (libFuzzer's cov/ft) and corpus size per
# target. Fails on any crash; the crashing input is left in
# fuzz/artifacts/<target>/ — add it to fuzz/regressions/<target>/ with the fix.
#   PAYTRIM_FUZZ_SECONDS   seconds per target (default 10: about a minute in all)
#   PAYTRIM_FUZZ_TARGETS   space-separated subset (default: all)
# Usage: scripts/fuzz.sh            (short, as in scripts/test.sh)
#        PAYTRIM_FUZZ_SECONDS=600 scripts/fuzz.sh   (long)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
seconds="${PAYTRIM_FUZZ_SECONDS:-10}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "== installing the nightly toolchain (cargo-fuzz needs -Zsanitizer)"
    rustup toolchain install nightly --profile minimal || exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --locked || exit 1
fi

# fuzz/ is a workspace of its own with its own lockfile, and cargo-fuzz has no --locked:
# a dependency added to the library without updating fuzz/Cargo.lock would otherwise be
# resolved silently and leave the tracked lockfile modified after the test command.
if ! cargo +nightly metadata --locked --format-version 1 >/dev/null; then
    echo "fuzz: fuzz/Cargo.lock is out of date with the library's dependencies:" \
        "run 'cargo +nightly metadata --format-version 1 >/dev/null' in fuzz/ and commit fuzz/Cargo.lock"
    exit 1
fi

targets="${PAYTRIM_FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
echo "== building fuzz targets (AddressSanitizer): $(echo $targets)"
cargo +nightly fuzz build || exit 1

failed=()
corpus_root="$root/target/fuzz-corpus"
for t in $targets; do
    corpus="$corpus_root/$t"
    mkdir -p "$corpus"
    if compgen -G "regressions/$t/*" >/dev/null; then
        if ! cargo +nightly fuzz run "$t" regressions/"$t"/* -- -runs=1 >/dev/null 2>"$corpus_root/$t.replay.log"; then
            echo "fuzz: $t: a saved regression input fails again (see $corpus_root/$t.replay.log)"
            failed+=("$t")
            continue
        fi
    fi
    log="$corpus_root/$t.log"
    cargo +nightly fuzz run "$t" "$corpus" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    files=$(find "$corpus" -type f | wc -l)
    printf 'fuzz: %-24s %4ss  execs=%-9s cov=%-5s ft=%-6s corpus=%s%s\n' "$t" "$seconds" "${execs:-?}" \
        "${cov:-?}" "${ft:-?}" "$files" "$( ((rc)) && echo '  CRASH (see '"$log"')')"
    if ((rc)); then
        grep -E 'panicked|ERROR: |SUMMARY' "$log" | head -5
        failed+=("$t")
    fi
done
((${#failed[@]} == 0)) || { echo "fuzz: failing targets: ${failed[*]}"; exit 1; }
