#!/usr/bin/env python3
"""Times whole cold processes, several commands in turn (A B C A B C ...),
after a warm-up of each: wall time from fork to exit as the parent sees it,
user+sys CPU from the kernel's accounting of the finished child (os.wait4),
and the in-process figure each program prints ("ok LEN MICROSECONDS":
main() to token). Prints min / median / max of each, and of each command's
ratio to the last one, round by round (so a comparison holds while the
machine's speed drifts).

usage: compare.py [--runs N] [--warmup N] --cmd NAME CMD... [--cmd NAME CMD...]...
"""
import os
import statistics
import sys
import time


def run(cmd):
    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.close(r)
        os.close(w)
        try:
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(w)
    out = b""
    while chunk := os.read(r, 4096):
        out += chunk
    os.close(r)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    fields = out.decode().split()
    if os.waitstatus_to_exitcode(status) != 0 or len(fields) != 3 or fields[0] != "ok":
        sys.exit(f"{cmd[0]} failed: status {status}, output {out!r}")
    return {"wall": wall * 1e3, "cpu": (usage.ru_utime + usage.ru_stime) * 1e3, "inner": int(fields[2]) / 1e3}


def parse(argv):
    runs, warmup, cmds = 30, 2, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--runs":
            runs, i = int(argv[i + 1]), i + 2
        elif a == "--warmup":
            warmup, i = int(argv[i + 1]), i + 2
        elif a == "--cmd":
            cmds.append({"name": argv[i + 1], "cmd": []})
            i += 2
        else:
            cmds[-1]["cmd"].append(a)
            i += 1
    return runs, warmup, cmds


def row(label, xs, unit="ms"):
    return f"{label:<50} {min(xs):8.2f} {statistics.median(xs):8.2f} {max(xs):8.2f} {unit}"


def main():
    runs, warmup, cmds = parse(sys.argv[1:])
    for _ in range(warmup):
        for c in cmds:
            run(c["cmd"])
    results = [[] for _ in cmds]
    for _ in range(runs):
        for c, rs in zip(cmds, results):
            rs.append(run(c["cmd"]))
    print(f"{runs} runs each, in turn, after {warmup} warm-up runs each; min / median / max")
    for c, rs in zip(cmds, results):
        for k, what in (("wall", "whole process, wall"), ("cpu", "whole process, user+sys CPU"),
                        ("inner", "main() to token (in process)")):
            print(row(f"{c['name']}: {what}", [r[k] for r in rs]))
    ref, ref_rs = cmds[-1], results[-1]
    for c, rs in zip(cmds[:-1], results[:-1]):
        for k, what in (("wall", "whole process, wall"), ("cpu", "user+sys CPU"), ("inner", "main() to token")):
            print(row(f"ratio {c['name']}/{ref['name']}: {what}", [x[k] / y[k] for x, y in zip(rs, ref_rs)], "x"))


if __name__ == "__main__":
    main()
