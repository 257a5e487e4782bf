#!/usr/bin/env bash
# Docs as tests: every code snippet of README.md and of each binding's README is
# compiled and run from a folder outside the repository, the way a user would, against
# the packages (jar, nupkg, npm tarball) and the Entra emulator. Markers and rules:
# tests/docs/snippets.py.
#   PAYTRIM_AUTH_LIB   absolute path of libpaytrim_auth.so      (default: built here)
#   PAYTRIM_EMULATOR   absolute path of paytrim-entra-emulator  (default: built here)
#   PAYTRIM_DOCTEST_ONLY=c,java,kotlin,csharp,js,rust   run only these languages
# The packages come from scripts/package.sh (as released, with this library as linux-x64);
# the jar and the nupkg the Java and C# suites made are reused when they are newer than the
# library and the wrapper's sources.
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
command -v zip >/dev/null || need_apt+=(zip)       # scripts/package.sh
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
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -1)"

# The packages as released (scripts/package.sh, with this library as linux-x64), except that the
# jar and the nupkg the Java and C# suites just made are reused when they are newer than the
# library and the wrapper's sources.
need=()
if wants java || wants kotlin; then
  jar="$root/bindings/java/target/paytrim-auth-$version.jar"
  fresh "$jar" "$root/bindings/java/src" "$root/bindings/java/pom.xml" || { jar="$work/packages/paytrim-auth-$version.jar"; need+=(java); }
fi
if wants csharp; then
  nupkg="$root/bindings/csharp/build/pkg/Paytrim.Auth.$version.nupkg"
  fresh "$nupkg" "$root/bindings/csharp/src" "$root/bindings/csharp/Paytrim.Auth.nuspec" ||
    { nupkg="$work/packages/Paytrim.Auth.$version.nupkg"; need+=(csharp); }
fi
if wants js; then
  tgz="$work/packages/paytrim-auth-$version.tgz"; need+=(node)
fi
if ((${#need[@]})); then
  mkdir -p "$work/natives/linux-x64"
  cp "$lib" "$work/natives/linux-x64/libpaytrim_auth.so"
  PAYTRIM_PACKAGES="${need[*]}" PAYTRIM_PACKAGES_DIR="$work/packages" "$root/scripts/package.sh" "$work/natives" |
    grep -v '^   ' || true
  for f in "$jar" "$nupkg" "$tgz"; do
    [[ "$f" == none || -f "$f" ]] || { echo "scripts/package.sh made no $f" >&2; exit 1; }
  done
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
