#!/usr/bin/env bash
# Reruns every benchmark and regenerates the results table in BENCHMARKS.md.
#   scripts/bench.sh           # full run, about 4 minutes on 2 cores (plus the build)
#   scripts/bench.sh --quick   # smoke run (fewer rounds), about 2 minutes
# Benchmarks are not tests: nothing here gates on a time.
#
# Steps: build (release); stripped cdylib size; criterion cache-hit benches
# (benches/cache_hit.rs); scenarios (benches/scenarios.rs: throughput, cold
# fetch vs curl, 1000-caller stampede); one emulator for the C program
# (bench/c/cbench.c: memory, C-side hit, cold, 32-caller stampede) and the
# peers (MSAL Python, azure-identity, @azure/msal-node, installed into
# target/bench-peers); callgrind instruction count of a hit; the bindings'
# own bench scripts (bindings/<lang>/bench/*.sh) when present; then
# bench/report.py writes the table.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
quick=0
if [[ "${1:-}" == "--quick" ]]; then quick=1; export PAYTRIM_BENCH_QUICK=1; fi
out="$root/bench/results/latest"
rm -rf "$out"; mkdir -p "$out"
export PAYTRIM_BENCH_OUT="$out/results.jsonl"
t_start=$(date +%s)
load_before="$(uptime | sed 's/.*load average: //')"
log() { echo "== $* ($(( $(date +%s) - t_start )) s)" >&2; }

need=()
command -v curl >/dev/null || need+=(curl)
command -v valgrind >/dev/null || need+=(valgrind)
command -v gcc >/dev/null || need+=(gcc)
if ((${#need[@]})); then
    log "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Headroom for the many-keys bench (clients share connection pools; this is a safeguard).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

log "building the library, the emulator and the benches (release)"
cargo build --release --locked -q -p paytrim-auth -p paytrim-entra-emulator
cargo bench --locked -q --no-run -p paytrim-auth 2>/dev/null
export PAYTRIM_AUTH_LIB="$target_dir/release/libpaytrim_auth.so"
export PAYTRIM_EMULATOR="$target_dir/release/paytrim-entra-emulator"

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cp "$PAYTRIM_AUTH_LIB" "$tmp/lib.so" && strip "$tmp/lib.so"
echo "{\"name\":\"size\",\"unstripped_bytes\":$(stat -c %s "$PAYTRIM_AUTH_LIB"),\"stripped_bytes\":$(stat -c %s "$tmp/lib.so")}" >>"$PAYTRIM_BENCH_OUT"

log "criterion: cache hit, many keys"
crit=()
((quick)) && crit=(--warm-up-time 0.3 --measurement-time 1 --sample-size 20)
rm -rf "$target_dir/criterion/hit" "$target_dir/criterion/many_keys"
cargo bench --locked -q -p paytrim-auth --bench cache_hit -- "${crit[@]}" 2>&1 | grep -E "^[a-z_]+/|time:|filled" | tee "$out/criterion.txt" >&2

log "scenarios: throughput, cold fetch vs curl, stampede"
PAYTRIM_BENCH_VERBOSE=1 cargo bench --locked -q -p paytrim-auth --bench scenarios 2>&1 | grep -E "RESULT|stampede api" | tee "$out/scenarios.txt" >&2

log "peers: installing msal, azure-identity, @azure/msal-node into target/bench-peers"
peers="$target_dir/bench-peers"
mkdir -p "$peers/node"
if [[ ! -x "$peers/venv/bin/python" ]]; then python3 -m venv "$peers/venv"; fi
"$peers/venv/bin/pip" install -q --disable-pip-version-check msal azure-identity
[[ -f "$peers/node/package.json" ]] || echo '{"name":"paytrim-bench-peers","private":true}' >"$peers/node/package.json"
(cd "$peers/node" && npm install -q --no-audit --no-fund @azure/msal-node >/dev/null)

gcc -O2 -g -Wall -Wextra -o "$tmp/cbench" bench/c/cbench.c -ldl -lpthread

log "emulator for the C program and the peers"
coproc EMU { exec "$PAYTRIM_EMULATOR" --exit-on-stdin-eof --verbose 2>"$out/emulator.log"; }
read -r ready <&"${EMU[0]}"
trap 'exec {EMU[1]}>&- 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; rm -rf "$tmp"' EXIT
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
export EMU_HTTPS="$(field https)" EMU_HTTP="$(field http)" EMU_CA="$(field ca_file)"
export EMU_ID="$(field client_id)" EMU_SECRET="$(field client_secret)"
cargs=("$PAYTRIM_AUTH_LIB" "$EMU_HTTPS" "$EMU_HTTP" "$EMU_CA" "$EMU_ID" "$EMU_SECRET")

log "C program: memory, hit, cold, stampede of 32"
"$tmp/cbench" "${cargs[@]}" 1000 | tee -a "$PAYTRIM_BENCH_OUT" >&2

log "MSAL Python, azure-identity (and paytrim-auth through ctypes)"
"$peers/venv/bin/python" bench/peers/python_peers.py --check-discovery >"$out/peers-discovery.txt" 2>&1 || true
"$peers/venv/bin/python" bench/peers/python_peers.py | tee -a "$PAYTRIM_BENCH_OUT" >&2

log "@azure/msal-node"
(cd "$peers/node" && NODE_EXTRA_CA_CERTS="$EMU_CA" node "$root/bench/peers/msal_node.mjs" --check-discovery) >>"$out/peers-discovery.txt" 2>&1 || true
(cd "$peers/node" && NODE_EXTRA_CA_CERTS="$EMU_CA" node "$root/bench/peers/msal_node.mjs") | tee -a "$PAYTRIM_BENCH_OUT" >&2
grep -v "^POST " "$out/emulator.log" | grep -v "_emulator" | sort | uniq -c >>"$out/peers-discovery.txt" || true

log "callgrind: instructions per cache hit"
for n in 1000 21000; do
    CBENCH_HITS=$n valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.hit.$n.out" \
        "$tmp/cbench" "${cargs[@]}" >/dev/null 2>"$out/callgrind.$n.log"
done
python3 bench/callgrind_hit.py "$out/callgrind.hit.1000.out" 1000 "$out/callgrind.hit.21000.out" 21000 | tee -a "$PAYTRIM_BENCH_OUT" >&2
emu_pid=$EMU_PID
exec {EMU[1]}>&-; wait "$emu_pid" 2>/dev/null || true
trap 'rm -rf "$tmp"' EXIT

for lang in java csharp node; do
    script=""
    for s in "bindings/$lang/bench/run.sh" "bindings/$lang/bench/bench.sh" bindings/"$lang"/bench/*.sh; do
        [[ -x "$s" ]] && { script="$s"; break; }
    done
    cmd=("$script")
    if [[ -z "$script" && -f "bindings/$lang/package.json" ]] && grep -q '"bench"' "bindings/$lang/package.json"; then
        script="bindings/$lang: npm run bench"; cmd=(npm --prefix "bindings/$lang" run -s bench)
    fi
    if [[ -z "$script" ]]; then
        echo "pending (no bindings/$lang/bench/*.sh yet)" >"$out/$lang.status"; continue
    fi
    log "$lang: $script"
    if timeout 240 "${cmd[@]}" >"$out/$lang.log" 2>&1; then
        echo ok >"$out/$lang.status"
    else
        echo "failed: $(tail -n 1 "$out/$lang.log" | cut -c1-120) (see bench/results/latest/$lang.log)" >"$out/$lang.status"
    fi
    tail -n 5 "$out/$lang.log" >&2
done

load_after="$(uptime | sed 's/.*load average: //')"
python3 - "$out/machine.json" "$load_before" "$load_after" "$quick" <<'PY'
import json, os, platform, subprocess, sys, datetime
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
json.dump({
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "command": "scripts/bench.sh" + (" --quick" if sys.argv[4] == "1" else ""),
    "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
    "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split()[1],
    "load_before": sys.argv[2], "load_after": sys.argv[3],
}, open(sys.argv[1], "w"))
PY
python3 bench/report.py "$out" "$root/BENCHMARKS.md" >/dev/null
cat "$out/table.md"
log "done; table written to BENCHMARKS.md"
