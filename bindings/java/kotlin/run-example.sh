#!/usr/bin/env bash
# Builds the Kotlin example with kotlin-maven-plugin against the main jar and runs it against
# the emulator: a token for the configured scope and one for another scope set, per call.
# Called by bindings/java/test.sh after the main jar is built.
# Inputs: PAYTRIM_EMULATOR (the emulator), PAYTRIM_AUTH_LIB (optional: load this library
# rather than the jar's copy), PAYTRIM_JAR (default ../target/paytrim-auth-0.1.0.jar).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="${PAYTRIM_JAR:-$here/../target/paytrim-auth-0.1.0.jar}"
[[ -f "$jar" ]] || { echo "kotlin: main jar missing: $jar (run bindings/java/test.sh)" >&2; exit 1; }
cd "$here"
# Maven 3.8 prints stray ANSI resets even with -q -B; strip them.
mvn -q -B -Dpaytrim.jar="$jar" clean compile dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime 2>&1 | sed -u 's/\x1b\[0m//g'
cp="target/classes:$(cat target/classpath.txt)"

coproc EMU { exec "$PAYTRIM_EMULATOR" --exit-on-stdin-eof; }
read -r ready <&"${EMU[0]}"
trap 'exec {EMU[1]}>&-; wait "$EMU_PID" 2>/dev/null || true' EXIT
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }

out="$(PAYTRIM_CLIENT_ID="$(field client_id)" PAYTRIM_CLIENT_SECRET="$(field client_secret)" \
  PAYTRIM_TENANT_ID=contoso.onmicrosoft.com PAYTRIM_AUTHORITY_HOST="$(field https)" PAYTRIM_CA_FILE="$(field ca_file)" \
  java ${PAYTRIM_AUTH_LIB:+"-Dpaytrim.auth.library=$PAYTRIM_AUTH_LIB"} -cp "$cp" com.paytrim.auth.examples.KotlinGetToken)"
echo "$out"
# The emulator is on loopback: no proxy from the environment (test.sh points them at a dead port).
requests="$(python3 -c 'import json,sys,urllib.request as u; print(json.load(u.build_opener(u.ProxyHandler({})).open(sys.argv[1] + "/_emulator/stats"))["token_requests"])' "$(field http)")"
python3 - "$out" "$requests" <<'PY'
import re, sys
out, requests = sys.argv[1], int(sys.argv[2])
lines = out.splitlines()
assert len(lines) == 3, lines
m = re.fullmatch(r"default scope: (\d+)-character token, expires in (\d+) s", lines[0]); assert m, lines[0]
assert int(m.group(1)) > 100 and 3500 < int(m.group(2)) <= 3600, lines[0]
assert re.fullmatch(r"api://orders/\.default: \d+-character token, a different one: true", lines[1]), lines[1]
assert lines[2] == "header: Bearer <token>", lines[2]
assert requests == 2, f"{requests} token requests, expected 2 (one per scope set)"
print("kotlin-example: 1 passed, 0 failed")
PY
