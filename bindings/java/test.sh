#!/usr/bin/env bash
# Runs the Java wrapper's whole suite: unit + emulator tests (surefire), then
# the packaged-jar tests (failsafe: jar alone in an empty directory, -Xcheck:jni).
# Inputs: PAYTRIM_AUTH_LIB (absolute path of libpaytrim_auth.so) and
# PAYTRIM_EMULATOR (absolute path of the emulator); built from the repo when unset.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"

need_apt=()
command -v java >/dev/null || need_apt+=(openjdk-17-jdk-headless)
command -v javac >/dev/null || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need_apt+=(maven)
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
command -v readelf >/dev/null || need_apt+=(binutils)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v python3 >/dev/null || need_apt+=(python3)
if ((${#need_apt[@]})); then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [[ -z "${PAYTRIM_AUTH_LIB:-}" || -z "${PAYTRIM_EMULATOR:-}" ]]; then
  (cd "$root" && cargo build --release -q -p paytrim-auth -p paytrim-entra-emulator)
  PAYTRIM_AUTH_LIB="${PAYTRIM_AUTH_LIB:-$target_dir/release/libpaytrim_auth.so}"
  PAYTRIM_EMULATOR="${PAYTRIM_EMULATOR:-$target_dir/release/paytrim-entra-emulator}"
fi
[[ -f "$PAYTRIM_AUTH_LIB" ]] || { echo "PAYTRIM_AUTH_LIB not found: $PAYTRIM_AUTH_LIB" >&2; exit 1; }
[[ -x "$PAYTRIM_EMULATOR" ]] || { echo "PAYTRIM_EMULATOR not executable: $PAYTRIM_EMULATOR" >&2; exit 1; }
export PAYTRIM_AUTH_LIB PAYTRIM_EMULATOR

# The pom takes the library's directory and expects the name libpaytrim_auth.so.
libdir="$(cd "$(dirname "$PAYTRIM_AUTH_LIB")" && pwd)"
if [[ "$(basename "$PAYTRIM_AUTH_LIB")" != libpaytrim_auth.so ]]; then
  libdir="$(mktemp -d)"
  trap 'rm -rf "$libdir"' EXIT
  cp "$PAYTRIM_AUTH_LIB" "$libdir/libpaytrim_auth.so"
fi

# A JDK 21+ for the virtual-thread tests (VirtualThreadsIT), which run in a child JVM on it;
# the jar itself stays Java 8 bytecode built by the default JDK. PAYTRIM_VT_JAVA picks one.
vt_java="${PAYTRIM_VT_JAVA:-}"
if [[ -z "$vt_java" ]]; then
  for d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [[ -x "$d/bin/java" ]] || continue
    v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [[ "${v%%.*}" =~ ^[0-9]+$ ]] && ((${v%%.*} >= 21)); then vt_java="$d/bin/java"; break; fi
  done
fi
if [[ -z "$vt_java" ]]; then
  echo "java: WARNING: no JDK 21+ found: the virtual-thread tests are SKIPPED (set PAYTRIM_VT_JAVA)" >&2
else
  echo "java: virtual-thread tests on $vt_java"
fi

cd "$here"
status=0
# Maven 3.8 prints stray ANSI resets even with -q -B; strip them.
# The tests talk only to loopback servers they start, so a proxy in the environment must not
# matter: every run proves it by pointing each proxy variable at a dead port, NO_PROXY unset.
# (Maven itself ignores these variables; it takes proxies from settings.xml.)
dead=http://127.0.0.1:9
export HTTPS_PROXY=$dead https_proxy=$dead HTTP_PROXY=$dead http_proxy=$dead ALL_PROXY=$dead all_proxy=$dead
unset NO_PROXY no_proxy
if ! mvn -q -B -Dpaytrim.native.dir="$libdir" -Dpaytrim.emulator="$PAYTRIM_EMULATOR" \
    -Dpaytrim.vt.java="$vt_java" clean verify 2>&1 \
    | sed -u 's/\x1b\[0m//g'; then
  status=1
fi

# Beside the main jar (just built above, reused): the Azure SDK adapter module (azure-core's
# BearerTokenAuthenticationPolicy against a local HTTPS server) and the Kotlin example
# (kotlin-maven-plugin), each its own small Maven project; Maven fetches azure-core and Kotlin.
jar="$here/target/paytrim-auth-0.1.0.jar"
if [[ -f "$jar" ]]; then
  t0=$(date +%s)
  if ! (cd "$here/azure" && mvn -q -B -Dpaytrim.jar="$jar" -Dpaytrim.emulator="$PAYTRIM_EMULATOR" clean test 2>&1 \
      | sed -u -e 's/\x1b\[0m//g' -e '/^SLF4J: /d'); then
    status=1
  fi
  echo "java: azure adapter module: $(( $(date +%s) - t0 )) s"
  t0=$(date +%s)
  PAYTRIM_JAR="$jar" "$here/kotlin/run-example.sh" || status=1
  echo "java: kotlin example: $(( $(date +%s) - t0 )) s"
else
  echo "java: $jar was not built: the azure adapter and Kotlin example did not run" >&2
  status=1
fi

# Surefire/failsafe summary (hidden by -q).
total=0 failed=0 errors=0 skipped=0
for f in target/surefire-reports/TEST-*.xml target/failsafe-reports/TEST-*.xml azure/target/surefire-reports/TEST-*.xml; do
  [[ -f "$f" ]] || continue
  head=$(grep -m1 -o '<testsuite [^>]*>' "$f")
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$head"; }
  t=$(get tests); fl=$(get failures); er=$(get errors); sk=$(get skipped)
  printf '  %-40s tests %3s  failures %s  errors %s  skipped %s\n' "${f##*/TEST-}" "$t" "$fl" "$er" "$sk"
  total=$((total + t)); failed=$((failed + fl)); errors=$((errors + er)); skipped=$((skipped + sk))
done
echo "java: Tests run: $total, Failures: $failed, Errors: $errors, Skipped: $skipped"
if ((total == 0 || failed + errors > 0)); then
  status=1
fi
exit "$status"
