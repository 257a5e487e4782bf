#!/usr/bin/env python3
"""Cache-tier benchmark (run through bench/tiers.sh). Prints a Markdown table.

usage: bench/tiers.py LIB EMULATOR TIERPROBE TMPDIR
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

lib, emulator, probe, tmp = sys.argv[1:5]
runs = int(os.environ.get("TIERS_RUNS", "20"))
fleet = int(os.environ.get("TIERS_FLEET", "64"))
hosts = 8

emu = subprocess.Popen([emulator, "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
ready = json.loads(emu.stdout.readline())


def requests():
    with urllib.request.urlopen(ready["http"] + "/_emulator/stats") as r:
        return json.load(r)["token_requests"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


redis_port = free_port()
redis = subprocess.Popen(
    ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
     "--dir", tmp],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(500):
    try:
        socket.create_connection(("127.0.0.1", redis_port), timeout=0.1).close()
        break
    except OSError:
        time.sleep(0.01)
redis_url = f"redis://127.0.0.1:{redis_port}"

base = [f"authority_host={ready['https']}", "tenant=contoso.onmicrosoft.com", f"ca_file={ready['ca_file']}"]
counter = [0]


def scope():
    counter[0] += 1
    return f"scope=api://tiers-bench-{os.getpid()}-{counter[0]}/.default"


def fresh_dir():
    counter[0] += 1
    return os.path.join(tmp, f"cache-{counter[0]}")


def cmd(extra):
    # An item may hold several "key=value" lines.
    flat = [kv for e in extra for kv in e.split("\n")]
    return [probe, lib, ready["client_id"], ready["client_secret"], *base, *flat]


def run(extra):
    out = subprocess.run(cmd(extra), capture_output=True, text=True, check=False)
    d = json.loads(out.stdout.strip().splitlines()[-1])
    if not d.get("ok"):
        raise SystemExit(f"probe failed: {d}")
    return d


def at_once(extras):
    go = os.path.join(tmp, f"go-{time.monotonic_ns()}")
    env = dict(os.environ, TIERPROBE_GO=go)
    logdir = os.environ.get("TIERS_LOG_DIR")
    if logdir:
        env["TIERPROBE_LOG"] = "3"
        os.makedirs(logdir, exist_ok=True)
    procs = [subprocess.Popen(cmd(e), stdout=subprocess.PIPE, text=True, env=env,
                              stderr=open(os.path.join(logdir, f"{len(rows)}-{i}.log"), "a") if logdir else None)
             for i, e in enumerate(extras)]
    time.sleep(0.5 + 0.01 * len(extras))
    before = requests()
    open(go, "w").close()
    results = []
    for p in procs:
        out, _ = p.communicate()
        d = json.loads(out.strip().splitlines()[-1])
        if not d.get("ok"):
            raise SystemExit(f"probe failed: {d}")
        results.append(d)
    return requests() - before, max(r["first_token_ms"] for r in results)


def stats(values):
    values = sorted(values)
    return statistics.median(values), values[int(0.9 * (len(values) - 1))]


rows = []


def first_token(name, extra_each, warm=None):
    if warm:
        run(warm)
    before = requests()
    results = [run(extra_each()) for _ in range(runs)]
    sent = requests() - before
    first = stats([r["first_token_ms"] for r in results])
    call = stats([r["get_token_ms"] for r in results])
    rows.append((name, first, call, sent))
    return first[0], call[0]


# A new process's first token.
s = scope()
network_first, network = first_token("network fetch (no tier)", lambda: [s])
d = fresh_dir()
s = scope()
first_token("warm on-host tier", lambda: [s, f"cache_dir={d}"], warm=[s, f"cache_dir={d}"])
s = scope()
first_token("warm Redis tier", lambda: [s, f"redis_url={redis_url}"], warm=[s, f"redis_url={redis_url}"])
s = scope()
first_token("warm Redis tier, empty on-host tier", lambda: [s, f"redis_url={redis_url}", f"cache_dir={fresh_dir()}"],
            warm=[s, f"redis_url={redis_url}"])

print(f"First token of a new process ({runs} processes each; ms; median / p90):\n")
print("| source | first token (dlopen + client + token) | `get_token` call | requests sent | vs network (`get_token`) "
      "| vs network (first token) |")
print("|---|---|---|---|---|---|")
for name, first, call, sent in rows:
    speed = network / call[0] if call[0] else float("inf")
    whole = network_first / first[0] if first[0] else float("inf")
    print(f"| {name} | {first[0]:.2f} / {first[1]:.2f} | {call[0]:.3f} / {call[1]:.3f} | {sent} | {speed:.1f}x "
          f"| {whole:.1f}x |")

# Fleet restart.
print(f"\nFleet restart: {fleet} processes started at once (requests to the emulator; slowest process's first token, ms):\n")
print("| tiers | requests | slowest process |")
print("|---|---|---|")
s = scope()
sent, slow = at_once([[s]] * fleet)
print(f"| none | {sent} | {slow:.1f} |")
d = fresh_dir()
s = scope()
sent, slow = at_once([[s, f"cache_dir={d}"]] * fleet)
print(f"| on-host, one host, cold | {sent} | {slow:.1f} |")
sent, slow = at_once([[s, f"cache_dir={d}"]] * fleet)
print(f"| on-host, one host, warm (restart) | {sent} | {slow:.1f} |")
for timeout in (None, 2000):
    dirs = [fresh_dir() for _ in range(hosts)]
    s = scope()
    extra = [f"redis_timeout_ms={timeout}"] if timeout else []
    label = f"redis_timeout_ms={timeout}" if timeout else "default redis_timeout_ms (500)"
    fleet_cmds = [[s, f"cache_dir={dirs[i % hosts]}", f"redis_url={redis_url}", *extra] for i in range(fleet)]
    sent, slow = at_once(fleet_cmds)
    print(f"| on-host + Redis, {hosts} hosts x {fleet // hosts}, cold, {label} | {sent} | {slow:.1f} |")
    sent, slow = at_once(fleet_cmds)
    print(f"| on-host + Redis, {hosts} hosts x {fleet // hosts}, warm (restart), {label} | {sent} | {slow:.1f} |")

redis.terminate()
redis.wait()
emu.stdin.close()
emu.wait()
