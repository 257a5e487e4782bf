#!/usr/bin/env python3
"""Instructions per cache hit from two callgrind runs of bench/c/cbench with
CBENCH_HITS=N1 and N2: (total2 - total1) / (N2 - N1), per function too.

usage: callgrind_hit.py OUT1 N1 OUT2 N2   -> one JSON line
"""
import json
import re
import subprocess
import sys

out1, n1, out2, n2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


def per_function(path):
    text = subprocess.run(["callgrind_annotate", "--threshold=100", path], capture_output=True, text=True).stdout
    total, funcs = None, {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)", line)
        if not m or "=>" in line:  # "=>" lines are calls (inclusive), not self cost
            continue
        v, what = int(m.group(1).replace(",", "")), m.group(2).strip()
        if what.startswith("PROGRAM TOTALS"):
            total = v
        elif ":" in what:
            funcs[what] = funcs.get(what, 0) + v
    return total, funcs


t1, f1 = per_function(out1)
t2, f2 = per_function(out2)
span = n2 - n1
top = []
for k, v in f2.items():
    d = (v - f1.get(k, 0)) / span
    if d >= 5:
        name = re.sub(r"\s*\[[^\]]*\]$", "", k)  # drop the object file
        name = name.split(":", 1)[1] if ":" in name else name  # drop the source file
        top.append((round(d, 1), name[:110]))
top.sort(reverse=True)
print(json.dumps({"name": "callgrind_hit", "instructions_per_hit": (t2 - t1) / span, "top": top[:14]}))
