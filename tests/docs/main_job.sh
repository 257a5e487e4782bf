#!/usr/bin/env bash
# The README's first command, `scripts/run.sh all`, as a user sees it: four token JSON lines on
# stdout (C, Java, C#, Node) and, on stderr, only its own "== ..." progress lines: no stray ANSI
# escape, no JVM "Picked up JAVA_TOOL_OPTIONS" notice.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$(mktemp)" err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT
# A user's shell has neither: the script must point each language at the emulator itself.
env -u PAYTRIM_AUTH_LIB -u PAYTRIM_EMULATOR -u JAVA_TOOL_OPTIONS "$root/scripts/run.sh" all >"$out" 2>"$err" || {
  echo "scripts/run.sh all failed:"; cat "$err"; exit 1; }
status=0
python3 - "$out" <<'PY' || status=1
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 4, f"expected 4 token lines (C, Java, C#, Node), got {len(lines)}: {lines}"
for l in lines:
    t = json.loads(l)
    assert t["token_type"] == "Bearer" and t["access_token"] and 3500 < t["expires_in"] <= 3599, l[:60]
PY
if grep -q $'\x1b' "$err"; then echo "stderr holds ANSI escapes:"; cat -v "$err"; status=1; fi
if grep -v '^== ' "$err" | grep -q .; then echo "stderr holds more than progress lines:"; grep -v '^== ' "$err"; status=1; fi
((status == 0)) && echo "main job: scripts/run.sh all printed 4 tokens and a clean stderr"
exit "$status"
