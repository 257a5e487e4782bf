#!/usr/bin/env bash
# Docs as tests: every code snippet of README.md and of each binding's README is
# compiled and run from a folder outside the repository, the way a user would, against
# the packages (jar, nupkg, npm tarball) and the Entra emulator. Markers and rules:
# tests/docs/snippets.py.
#   PAYTRIM_AUTH_LIB   absolute path of libpaytrim_auth.so      (default: built here)
#   PAYTRIM_EMULATOR   absolute path of paytrim-entra-emulator  (default: built here)
#   PAYTRIM_DOCTEST_ONLY=c,java,kotlin,csharp,js   run only these languages
# Reuses the jar and the nupkg the Java and C# suites made when they are newer than the
# library and the wrapper's sources; otherwise builds them the same way.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
command -v javac >/dev/null || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need_apt+=(maven)
command -v mcs >/dev/null || need_apt+=(mono-mcs)
command -v mono >/dev/null || need_apt+=(mono-runtime)
command -v nuget >/dev/null || need_apt+=(nuget)
# System.Net.Http (AuthenticationHeaderValue in the C# snippets) is its own package on Debian.
[[ -f /usr/lib/mono/4.5/System.Net.Http.dll ]] || need_apt+=(libmono-system-net-http4.0-cil)
command -v npm >/dev/null || need_apt+=(nodejs npm)
command -v unzip >/dev/null || need_apt+=(unzip)   # the C# README's commands take the nupkg apart with it
if ((${#need_apt[@]})); then
  echo "== installing ${need_apt[*]}"
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi

if [[ -z "${PAYTRIM_AUTH_LIB:-}" || -z "${PAYTRIM_EMULATOR:-}" ]]; then
  (cd "$root" && cargo build --release -q --locked -p paytrim-auth -p paytrim-entra-emulator)
  PAYTRIM_AUTH_LIB="${PAYTRIM_AUTH_LIB:-$root/target/release/libpaytrim_auth.so}"
  PAYTRIM_EMULATOR="${PAYTRIM_EMULATOR:-$root/target/release/paytrim-entra-emulator}"
fi
lib="$PAYTRIM_AUTH_LIB"
work="$(mktemp -d "${TMPDIR:-/tmp}/paytrim-doctest.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/packages"

# fresh FILE DIR...: FILE exists and is newer than the library and every file under DIRs.
fresh() {
  local f="$1"; shift
  [[ -f "$f" && "$f" -nt "$lib" ]] || return 1
  [[ -z "$(find "$@" -newer "$f" -type f -print -quit)" ]]
}

only="${PAYTRIM_DOCTEST_ONLY:-}"
wants() { [[ -z "$only" ]] || [[ ",$only," == *",$1,"* ]]; }
jar=none nupkg=none tgz=none

version() { sed -n "s/.*<version>\([^<]*\)<\/version>.*/\1/p" "$1" | head -1; }

# ---- the jar (bindings/java: mvn package with the library inside)
if wants java || wants kotlin; then
jver="$(version "$root/bindings/java/pom.xml")"
jar="$root/bindings/java/target/paytrim-auth-$jver.jar"
if ! fresh "$jar" "$root/bindings/java/src" "$root/bindings/java/pom.xml"; then
  echo "== mvn package (bindings/java)"
  libdir="$work/native"; mkdir -p "$libdir"; cp "$lib" "$libdir/libpaytrim_auth.so"
  (cd "$root/bindings/java" && mvn -q -B -DskipTests -Dpaytrim.native.dir="$libdir" package 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g')
fi
fi

# ---- the nupkg (bindings/csharp: mcs, then nuget pack, as bindings/csharp/test.sh does)
if wants csharp; then
cver="$(version "$root/bindings/csharp/Paytrim.Auth.nuspec")"
nupkg="$root/bindings/csharp/build/pkg/Paytrim.Auth.$cver.nupkg"
if ! fresh "$nupkg" "$root/bindings/csharp/src" "$root/bindings/csharp/Paytrim.Auth.nuspec"; then
  echo "== mcs + nuget pack (bindings/csharp)"
  b="$work/csharp-build"; mkdir -p "$b"
  mcs -langversion:7.2 -nologo -optimize+ -target:library -unsafe -out:"$b/Paytrim.Auth.dll" "$root"/bindings/csharp/src/*.cs
  cp "$root/bindings/csharp/src/Paytrim.Auth.dll.config" "$b/"
  cp "$lib" "$b/libpaytrim_auth.so"
  HOME="${HOME:-$b}" nuget pack "$root/bindings/csharp/Paytrim.Auth.nuspec" -NonInteractive -NoDefaultExcludes \
    -BasePath "$b" -OutputDirectory "$work/packages" >/dev/null
  nupkg="$work/packages/Paytrim.Auth.$cver.nupkg"
fi
fi

# ---- the npm tarball (bindings/node: npm pack with the library in prebuilds/)
if wants js; then
echo "== npm pack (bindings/node)"
(cd "$root/bindings/node" &&
  { [[ -d node_modules/koffi ]] || npm ci --no-audit --no-fund --silent; } &&
  mkdir -p prebuilds/linux-x64 && cp -f "$lib" prebuilds/linux-x64/libpaytrim_auth.so &&
  npm pack --silent --pack-destination "$work/packages" >/dev/null)
tgz="$(ls "$work"/packages/paytrim-auth-*.tgz)"
fi

echo "== doc tests"
cd "$root"
status=0
python3 "$here/run.py" --repo "$root" --lib "$lib" --emulator "$PAYTRIM_EMULATOR" \
  --jar "$jar" --nupkg "$nupkg" --tgz "$tgz" --work "$work" --only "$only" \
  README.md bindings/java/README.md bindings/csharp/README.md bindings/node/README.md || status=1

if [[ -z "$only" ]]; then
  echo "== the main job (scripts/run.sh all)"
  "$here/main_job.sh" || status=1
fi
exit "$status"
