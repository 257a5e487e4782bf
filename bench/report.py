#!/usr/bin/env python3
"""Turns one bench run (bench/results/latest/) into the results table and
writes it into BENCHMARKS.md between the bench:begin / bench:end markers.

usage: bench/report.py RESULTS_DIR BENCHMARKS_MD
"""
import json
import os
import re
import statistics
import sys

res_dir, md_path = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.abspath(md_path))


def load_jsonl(name):
    out = {}
    path = os.path.join(res_dir, name)
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                d = json.loads(line)
                out[d["name"]] = d
    return out


R = load_jsonl("results.jsonl")
machine = json.load(open(os.path.join(res_dir, "machine.json")))


def crit(group, bench_id):
    p = os.path.join(root, "target", "criterion", group, bench_id, "new", "estimates.json")
    if not os.path.exists(p):
        return None
    return json.load(open(p))["median"]["point_estimate"]


def fmt_ns(v):
    if v is None:
        return "n/a"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.2f} µs"
    return f"{v:.0f} ns"


def status(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


rows = []  # (measure, result, target, status)
hit = crit("hit", "c_abi")
rows.append(("C ABI cache hit: `get_token` + `string_free` (criterion median, Rust caller)",
             fmt_ns(hit), "≤ 150 ns", status(None if hit is None else hit <= 150)))
c = R.get("c_program", {})
if c:
    rows.append(("same, from a C program through the `dlopen`ed release cdylib (median of 7×1M)",
                 fmt_ns(c["hit_ns"]), "(≤ 150 ns)", status(c["hit_ns"] <= 150)))
cg = R.get("callgrind_hit", {})
if cg:
    rows.append(("same, instructions per hit (callgrind, stable on a noisy machine)",
                 f"{cg['instructions_per_hit']:.0f} instr", "—", "info"))
tp = R.get("hit_throughput")
if tp:
    rows.append(("cache-hit throughput, 1 thread", f"{tp['threads_1_calls_per_s'] / 1e6:.2f} M calls/s", "—", ""))
    rows.append(("cache-hit throughput, 2 threads (aggregate)", f"{tp['threads_2_calls_per_s'] / 1e6:.2f} M calls/s", "—", ""))
    rows.append((f"2-thread scaling (machine control loop: {tp['control_scaling']:.2f}×)",
                 f"{tp['scaling']:.2f}×", "≥ 1.7×", status(tp["scaling"] >= 1.7)))
cold = R.get("cold_fetch")
if cold:
    rows.append(("cold fetch: new client + first token over HTTPS (median)", f"{cold['ours_ms']:.2f} ms", "—", ""))
    rows.append(("curl, same POST, same emulator: `time_total` / whole process",
                 f"{cold['curl_time_total_ms']:.2f} ms / {cold['curl_process_ms']:.1f} ms", "—", ""))
    rows.append(("cold fetch ratio ours / curl `time_total`", f"{cold['ratio_vs_curl_time_total']:.2f}×", "≤ 1.2×",
                 status(cold["ratio_vs_curl_time_total"] <= 1.2)))
st = R.get("stampede")
if st:
    rows.append((f"stampede: {st['callers']} concurrent cold callers, one key: requests at the emulator (max over {st['trials']} trials)",
                 str(st["requests_max"]), "1", status(st["requests_max"] == 1)))
    rows.append(("stampede: time until the last caller has its token (median)", f"{st['last_served_ms']:.1f} ms", "—", ""))
    rows.append(("one cold fetch in the same run (`get_token` on a fresh client)", f"{st['one_cold_fetch_ms']:.2f} ms", "—", ""))
    rows.append(("stampede ratio last caller / one cold fetch", f"{st['ratio']:.1f}×", "≤ 1.2×", status(st["ratio"] <= 1.2)))
    rows.append(("floor: the same 1000 threads released onto an already cached key", f"{st['release_floor_ms']:.1f} ms", "—",
                 "info"))
    extra = st["last_served_ms"] - st["release_floor_ms"]
    rows.append(("stampede above that floor (last served − floor) / one cold fetch",
                 f"{extra / st['one_cold_fetch_ms']:.2f}×", "(≤ 1.2×)", status(extra / st["one_cold_fetch_ms"] <= 1.2)))
mk = {n: crit("many_keys", f"one_client_{n}") for n in (1, 100, 10000)}
rr = {n: crit("many_keys", f"round_robin_{n}") for n in (1, 100, 10000)}
if all(mk.values()):
    flat = max(mk.values()) / min(mk.values())
    rows.append(("hit with 1 / 100 / 10,000 cached keys (same client)", " / ".join(fmt_ns(mk[n]) for n in mk),
                 "flat (max/min ≤ 1.25)", status(flat <= 1.25) + f" ({flat:.2f})"))
if all(rr.values()):
    rows.append(("hit cycling over all 1 / 100 / 10,000 keys (memory traffic, not lookup)",
                 " / ".join(fmt_ns(rr[n]) for n in rr), "—", "info"))

# Per-language rows from the bindings' own bench scripts.
UNIT = {"ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6}


def lang_hit(lang):
    path = os.path.join(res_dir, f"{lang}.log")
    status_path = os.path.join(res_dir, f"{lang}.status")
    st = open(status_path).read().strip() if os.path.exists(status_path) else "pending"
    if st != "ok":
        return None, st
    groups = {}
    for line in open(path):
        if not re.search(r"hit|get_?token", line, re.I):
            continue
        m = re.search(r"([\d][\d,]*(?:\.\d+)?)\s*(ns|us|µs|μs|ms)\b", line)
        if not m:
            continue
        label = re.sub(r"[\d.,]+", "#", line.strip())
        groups.setdefault(label, []).append(float(m.group(1).replace(",", "")) * UNIT[m.group(2)])
    if not groups:
        return None, "no figure found in its output"
    first = next(iter(groups.values()))
    return statistics.median(first), "ok"


msal_node = R.get("@azure/msal-node")
c_hit = c.get("hit_ns") if c else hit
lang_rows = []
for lang, label, target in (("java", "Java `getToken()`", 1000), ("csharp", "C# (Mono) `GetToken()`", 1500),
                            ("node", "Node `await getToken()`", None)):
    v, why = lang_hit(lang)
    if v is None:
        rows.append((f"{label} cache hit", why, "≤ 1 µs" if lang == "java" else ("≤ 1.5 µs" if lang == "csharp" else "≥ 10× faster than msal-node"), "pending"))
        continue
    ratio_c = f" ({v / c_hit:.1f}× the C figure)" if c_hit else ""
    if target:
        rows.append((f"{label} cache hit{ratio_c}", fmt_ns(v), f"≤ {fmt_ns(target)}", status(v <= target)))
    else:
        if msal_node:
            speedup = msal_node["hit_ns"] / v
            rows.append((f"{label} cache hit{ratio_c}; msal-node hit {fmt_ns(msal_node['hit_ns'])}",
                         f"{fmt_ns(v)} ({speedup:.0f}× faster)", "≥ 10× faster than msal-node", status(speedup >= 10)))
        else:
            rows.append((f"{label} cache hit{ratio_c}", fmt_ns(v), "≥ 10× faster than msal-node", "n/a"))

size = R.get("size")
if size:
    rows.append(("stripped release cdylib (`strip` of a copy; jni feature on)",
                 f"{size['stripped_bytes'] / 1e6:.2f} MB ({size['stripped_bytes'] / 2**20:.2f} MiB)", "≤ 3 MB",
                 status(size["stripped_bytes"] <= 3e6)))
if c:
    rows.append(("resident memory added by `dlopen`", f"{c['rss_added_by_dlopen'] / 1024:.0f} KiB", "—", ""))
    rows.append(("… then one client + its first token", f"{c['rss_added_by_client_and_token'] / 1024:.0f} KiB", "—", ""))
    rows.append((f"memory per cached key, client kept alive ({c['keys']} keys, RSS delta / N)",
                 f"{c['bytes_per_cached_key_with_client'] / 1024:.1f} KiB", "—", ""))
    rows.append(("memory per cached token, clients freed (tokens stay cached)",
                 f"{c['bytes_per_cached_token_clients_freed'] / 1024:.1f} KiB", "—", ""))

# Peers.
peer_rows = []
ours_py = R.get("paytrim-auth (ctypes)")
for name in ("c_program", "paytrim-auth (ctypes)", "msal", "azure-identity", "@azure/msal-node"):
    d = R.get(name)
    if not d:
        continue
    label = {"c_program": "paytrim-auth (C ABI, C caller)"}.get(name, name)
    lang = {"c_program": "C"}.get(name, d.get("lang", ""))
    ratios = ""
    if name in ("msal", "azure-identity") and ours_py:
        ratios = (f"hit {ours_py['hit_ns'] / d['hit_ns']:.3f}, cold {ours_py['cold_fetch_ms'] / d['cold_fetch_ms']:.2f} "
                  f"(ours via ctypes / theirs)")
    if name == "@azure/msal-node":
        nv, _ = lang_hit("node")
        ref, what = (nv, "our Node binding") if nv else (c_hit, "our C ABI; Node binding pending")
        ratios = f"hit {ref / d['hit_ns']:.4f} ({what} / theirs)"
        if c:
            ratios += f", cold {c['cold_fetch_ms'] / d['cold_fetch_ms']:.2f} (C / theirs)"
    peer_rows.append((label, lang, fmt_ns(d["hit_ns"]), f"{d['cold_fetch_ms']:.2f} ms", str(d["stampede32_requests"]), ratios))

out = []
out.append(f"Run: {machine['date']} · `{machine['command']}` · {machine['nproc']} cores, {machine['cpu']} · "
           f"kernel {machine['kernel']} · rustc {machine['rustc']}")
out.append("")
out.append(f"Load while running (`uptime`): before: {machine['load_before']} · after: {machine['load_after']}")
out.append("")
out.append("| Measure | Result | Target | Status |")
out.append("|---|---|---|---|")
for r in rows:
    out.append("| " + " | ".join(r) + " |")
out.append("")
out.append("Peers, same run, same emulator (cold = new application object + first token; "
           "stampede = 32 concurrent first callers on one application object):")
out.append("")
out.append("| Library | Language | Cache hit | Cold fetch | Stampede (32) requests | Ratios ours/theirs |")
out.append("|---|---|---|---|---|---|")
for r in peer_rows:
    out.append("| " + " | ".join(r) + " |")
if cg and cg.get("top"):
    out.append("")
    out.append(f"Callgrind, instructions per cache hit ({cg['instructions_per_hit']:.0f} in all; "
               "difference of two runs of 1,000 and 21,000 hits, over 20,000):")
    out.append("")
    out.append("| Instructions / hit | Function |")
    out.append("|---|---|")
    for v, f in cg["top"]:
        out.append(f"| {v:.0f} | `{f}` |")
table = "\n".join(out)

open(os.path.join(res_dir, "table.md"), "w").write(table + "\n")
md = open(md_path).read() if os.path.exists(md_path) else "<!-- bench:begin -->\n<!-- bench:end -->\n"
begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
if begin in md and end in md:
    md = md[: md.index(begin) + len(begin)] + "\n" + table + "\n" + md[md.index(end):]
else:
    md += f"\n{begin}\n{table}\n{end}\n"
open(md_path, "w").write(md)
print(table)
