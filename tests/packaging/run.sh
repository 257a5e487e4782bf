#!/usr/bin/env bash
# The packaging suite (issue 13 parts 1, 3, 8; issue 15 part 2), about 2 minutes:
#  1. actionlint (pinned, built with `go install` into a cache dir) on .github/workflows/;
#  2. scripts/package.sh with all eight platforms (the other seven are stand-in copies, in a
#     scratch dir): every package's layout; then with this machine's library alone, into
#     $CARGO_TARGET_DIR/packages (what the docs suite and users take);
#  3. each package installed into an empty project outside the repository and used: a token
#     from the emulator (Java: a Maven project depending on the jar; Node: npm install of the
#     tarball, offline); the C# nupkg is installed and used by the C# suite (PackageInstallTests);
#  4. JDK 24+ prints no native-access warning for `java -jar` (the manifest attribute), and the
#     jar is the automatic module com.paytrim.auth;
#  5. `mvn package` with no library built fails and says what to build;
#  6. no script hard-codes target/release (CARGO_TARGET_DIR).
# Inputs: PAYTRIM_AUTH_LIB, PAYTRIM_EMULATOR (absolute paths; default: built here).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-target}"
[[ "$target" = /* ]] || target="$root/$target"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
ACTIONLINT_VERSION=v1.7.12

need=()
command -v go >/dev/null || need+=(golang-go)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v mvn >/dev/null || need+=(maven)
command -v mcs >/dev/null || need+=(mono-mcs)
command -v nuget >/dev/null || need+=(nuget)
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
command -v npm >/dev/null || need+=(nodejs npm)
if ((${#need[@]})); then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi
if [[ -z "${PAYTRIM_AUTH_LIB:-}" || -z "${PAYTRIM_EMULATOR:-}" ]]; then
  cargo build --release --locked -q -p paytrim-auth -p paytrim-entra-emulator
  PAYTRIM_AUTH_LIB="${PAYTRIM_AUTH_LIB:-$target/release/libpaytrim_auth.so}"
  PAYTRIM_EMULATOR="${PAYTRIM_EMULATOR:-$target/release/paytrim-entra-emulator}"
fi

tmp="$(mktemp -d /tmp/paytrim-packaging-XXXXXX)"
emu_pid=""
cleanup() { [[ -n "$emu_pid" ]] && kill "$emu_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
t_start=$(date +%s)
step() { echo "-- [$(( $(date +%s) - t_start )) s] $*"; }

# ---- 1. actionlint ----
step "actionlint $ACTIONLINT_VERSION"
tools="$target/tools/actionlint-$ACTIONLINT_VERSION"
if [[ ! -x "$tools/actionlint" ]]; then
  GOBIN="$tools" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi
"$tools/actionlint" -shellcheck "$(command -v shellcheck)" .github/workflows/*.yml
echo "   .github/workflows: $(ls .github/workflows/*.yml | xargs -n1 basename | tr '\n' ' ')clean"

# ---- 2. assembly: eight platforms (layout), then this machine's library (the real packages) ----
step "scripts/package.sh, all eight platforms (stand-ins for the seven not built here)"
natives="$tmp/natives"
for rid in linux-x64 linux-arm64 linux-musl-x64 linux-musl-arm64 osx-x64 osx-arm64 win-x64 win-arm64; do
  case "$rid" in win-*) f=paytrim_auth.dll ;; osx-*) f=libpaytrim_auth.dylib ;; *) f=libpaytrim_auth.so ;; esac
  mkdir -p "$natives/$rid"
  if [[ "$rid" == linux-x64 ]]; then cp "$PAYTRIM_AUTH_LIB" "$natives/$rid/$f"; else echo "stand-in for $rid" >"$natives/$rid/$f"; fi
done
# (sources and javadoc jars: checked in the second run)
PAYTRIM_PACKAGE_JAVA_DOCS=0 PAYTRIM_REQUIRE_ALL_PLATFORMS=1 PAYTRIM_PACKAGES_DIR="$tmp/all-platforms" scripts/package.sh "$natives"
# The entries, spelled out here (the loaders' unit tests expect the same names), not derived from
# package.sh's own mapping.
all="$tmp/all-platforms"
jar_entries="$(unzip -Z1 "$all/paytrim-auth-$version.jar")"
nupkg_entries="$(unzip -Z1 "$all/Paytrim.Auth.$version.nupkg")"
tgz_entries="$(tar tzf "$all/paytrim-auth-$version.tgz")"
expect() {
  local listing="$1"; shift
  for e in "$@"; do grep -qxF "$e" <<<"$listing" || { echo "missing from a package: $e" >&2; exit 1; }; done
}
expect "$jar_entries" native/linux-x64/libpaytrim_auth.so native/linux-arm64/libpaytrim_auth.so \
  native/linux-musl-x64/libpaytrim_auth.so native/linux-musl-arm64/libpaytrim_auth.so \
  native/osx-x64/libpaytrim_auth.dylib native/osx-arm64/libpaytrim_auth.dylib \
  native/win-x64/paytrim_auth.dll native/win-arm64/paytrim_auth.dll
expect "$nupkg_entries" runtimes/linux-x64/native/libpaytrim_auth.so runtimes/linux-arm64/native/libpaytrim_auth.so \
  runtimes/linux-musl-x64/native/libpaytrim_auth.so runtimes/linux-musl-arm64/native/libpaytrim_auth.so \
  runtimes/osx-x64/native/libpaytrim_auth.dylib runtimes/osx-arm64/native/libpaytrim_auth.dylib \
  runtimes/win-x64/native/paytrim_auth.dll runtimes/win-arm64/native/paytrim_auth.dll \
  lib/netstandard2.0/Paytrim.Auth.dll build/Paytrim.Auth.targets buildTransitive/Paytrim.Auth.targets \
  contentFiles/cs/any/PaytrimAuth/Azure/PaytrimTokenCredential.cs
expect "$tgz_entries" package/prebuilds/linux-x64/libpaytrim_auth.so package/prebuilds/linux-arm64/libpaytrim_auth.so \
  package/prebuilds/linux-x64-musl/libpaytrim_auth.so package/prebuilds/linux-arm64-musl/libpaytrim_auth.so \
  package/prebuilds/darwin-x64/libpaytrim_auth.dylib package/prebuilds/darwin-arm64/libpaytrim_auth.dylib \
  package/prebuilds/win32-x64/paytrim_auth.dll package/prebuilds/win32-arm64/paytrim_auth.dll \
  package/node_modules/koffi/package.json package/node_modules/@koromix/koffi-linux-x64/package.json \
  package/node_modules/@koromix/koffi-linux-arm64/package.json package/node_modules/@koromix/koffi-darwin-x64/package.json \
  package/node_modules/@koromix/koffi-darwin-arm64/package.json package/node_modules/@koromix/koffi-win32-x64/package.json \
  package/node_modules/@koromix/koffi-win32-arm64/package.json
echo "   all eight platforms at their places in the jar, the nupkg and the tarball"

# The Azure.Core adapter the nupkg ships as a content file (buildAction Compile): a project
# without PAYTRIM_AUTH_AZURE compiles it to nothing (no Azure.Core needed); with the symbol it is
# the adapter (compiled here against the stand-in of Azure.Core's types with the probe that uses
# PaytrimTokenCredential: a syntax check only).
azdir="$tmp/azure-content"; mkdir -p "$azdir"
unzip -q -o "$all/Paytrim.Auth.$version.nupkg" -d "$azdir/pkg"
nuspec_cf="$(unzip -p "$all/Paytrim.Auth.$version.nupkg" Paytrim.Auth.nuspec)"
grep -q 'include="cs/any/PaytrimAuth/Azure/PaytrimTokenCredential.cs" buildAction="Compile"' <<<"$nuspec_cf" \
  || { echo "FAIL: the nupkg's nuspec does not declare the Azure adapter as a Compile content file" >&2; exit 1; }
adapter="$azdir/pkg/contentFiles/cs/any/PaytrimAuth/Azure/PaytrimTokenCredential.cs"
mcs -langversion:7.2 -nologo -warnaserror+ -target:library -out:"$azdir/off.dll" "$adapter" \
  || { echo "FAIL: the Azure adapter content file does not compile to nothing without PAYTRIM_AUTH_AZURE" >&2; exit 1; }
mcs -langversion:7.2 -nologo -warnaserror+ -target:exe -define:PAYTRIM_AUTH_AZURE -out:"$azdir/on.exe" \
  -r:"$azdir/pkg/lib/netstandard2.0/Paytrim.Auth.dll" "$adapter" bindings/csharp/azure/syntax-check/*.cs \
  || { echo "FAIL: the Azure adapter content file does not compile with PAYTRIM_AUTH_AZURE" >&2; exit 1; }
echo "   the Azure.Core adapter content file: empty without PAYTRIM_AUTH_AZURE, the adapter with it"
# The check inside package.sh must refuse a package missing a platform: drop one, expect the failure.
rm -rf "$natives/osx-arm64"
if PAYTRIM_REQUIRE_ALL_PLATFORMS=1 PAYTRIM_PACKAGES_DIR="$tmp/seven" scripts/package.sh "$natives" >"$tmp/seven.log" 2>&1; then
  echo "package.sh accepted seven platforms under PAYTRIM_REQUIRE_ALL_PLATFORMS=1" >&2; exit 1
fi
grep -q "only linux-x64 linux-arm64 linux-musl-x64 linux-musl-arm64 osx-x64 win-x64 win-arm64 given" "$tmp/seven.log"

step "scripts/package.sh, this machine's library -> $target/packages"
libdir="$tmp/host/linux-x64"
mkdir -p "$libdir" && cp "$PAYTRIM_AUTH_LIB" "$libdir/libpaytrim_auth.so"
PAYTRIM_PACKAGES_DIR="$target/packages" scripts/package.sh "$tmp/host"
pkgs="$target/packages"

# ---- 3. each package in an empty project, a token from the emulator ----
"$PAYTRIM_EMULATOR" >"$tmp/emu.json" 2>"$tmp/emu.err" &
emu_pid=$!
for _ in $(seq 100); do [[ -s "$tmp/emu.json" ]] && break; sleep 0.1; done
line="$(head -1 "$tmp/emu.json")"
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$line"; }
export T_ID="$(field client_id)" T_SECRET="$(field client_secret)" T_AUTHORITY="$(field https)" T_CA="$(field ca_file)"
[[ -n "$T_AUTHORITY" && -f "$T_CA" ]] || { echo "emulator did not start: $(cat "$tmp/emu.err")" >&2; exit 1; }

step "Java: a Maven project depending on com.paytrim:paytrim-auth:$version (file repository)"
repo="$tmp/maven-repo"
mvn -q -B install:install-file -Dfile="$pkgs/paytrim-auth-$version.jar" -DpomFile="$pkgs/paytrim-auth-$version.pom" \
  -Dsources="$pkgs/paytrim-auth-$version-sources.jar" -Djavadoc="$pkgs/paytrim-auth-$version-javadoc.jar" \
  -DlocalRepositoryPath="$repo" 2>&1 | sed -u 's/\x1b\[0m//g'
cp -r tests/packaging/java-consumer "$tmp/java-consumer"
# The consumer's own local repository: the jar must come from the file repository, not ~/.m2.
(cd "$tmp/java-consumer" && mvn -q -B -Dpackaged.repo="file://$repo" -Dpaytrim.version="$version" compile 2>&1 | sed -u 's/\x1b\[0m//g')
jar="$(find "$repo" -name "paytrim-auth-$version.jar")"
out="$(cd "$tmp" && env -u PAYTRIM_AUTH_LIB java -Dpaytrim.auth.cache.dir="$tmp/cache" \
  -cp "$tmp/java-consumer/target/classes:$jar" example.Main)"
grep -q '^token_length=[1-9]' <<<"$out" || { echo "$out" >&2; exit 1; }
grep -qF "source=jar resource /native/linux-x64/libpaytrim_auth.so (extracted to $tmp/cache/paytrim-auth/$version-" <<<"$out" \
  || { echo "$out" >&2; exit 1; }
echo "   $(head -1 <<<"$out"), library from the jar"

step "Node: npm install of paytrim-auth-$version.tgz into an empty project (offline)"
mkdir -p "$tmp/node-consumer"
(cd "$tmp/node-consumer" && echo '{"name":"consumer","version":"1.0.0","private":true}' >package.json &&
  npm install --offline --no-audit --no-fund --silent --cache "$tmp/npm-cache" "$pkgs/paytrim-auth-$version.tgz")
out="$(cd "$tmp/node-consumer" && env -u PAYTRIM_AUTH_LIB node -e '
  const { PaytrimAuthClient, LIBRARY_PATH } = require("paytrim-auth");
  const c = new PaytrimAuthClient({ clientId: process.env.T_ID, clientSecret: process.env.T_SECRET,
    tenant: "contoso.onmicrosoft.com", scope: "api://paytrim/.default",
    authorityHost: process.env.T_AUTHORITY, caFile: process.env.T_CA });
  c.getToken().then((t) => { console.log("token_length=" + t.accessToken.length); console.log("library=" + LIBRARY_PATH); c.close(); },
    (e) => { console.error(String(e)); process.exit(1); });')"
grep -q '^token_length=[1-9]' <<<"$out" || { echo "$out" >&2; exit 1; }
grep -qxF "library=$tmp/node-consumer/node_modules/paytrim-auth/prebuilds/linux-x64/libpaytrim_auth.so" <<<"$out" \
  || { echo "$out" >&2; exit 1; }
echo "   $(head -1 <<<"$out"), library from prebuilds/linux-x64/"

# ---- 4. JDK 24+: no native-access warning with -jar (the manifest's Enable-Native-Access) ----
jdk25=""
for d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
  [[ -x "$d/bin/java" ]] || continue
  v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  if [[ "${v%%.*}" =~ ^[0-9]+$ ]] && ((${v%%.*} >= 24)); then jdk25="$d/bin/java"; break; fi
done
if [[ -n "$jdk25" ]]; then
  step "JDK $("$jdk25" -version 2>&1 | head -1 | cut -d'"' -f2): java -jar prints no native-access warning"
  run_example() {
    (cd "$tmp" && env PAYTRIM_CLIENT_ID="$T_ID" PAYTRIM_CLIENT_SECRET="$T_SECRET" PAYTRIM_TENANT_ID=contoso.onmicrosoft.com \
      PAYTRIM_SCOPE=api://paytrim/.default PAYTRIM_AUTHORITY_HOST="$T_AUTHORITY" PAYTRIM_CA_FILE="$T_CA" PAYTRIM_TOKEN_URL= \
      "$jdk25" -Dpaytrim.auth.cache.dir="$tmp/cache" "$@" 2>"$tmp/jdk25.err" >"$tmp/jdk25.out")
  }
  run_example -jar "$pkgs/paytrim-auth-$version.jar"
  grep -q '"token_type":"Bearer"' "$tmp/jdk25.out"
  if grep -qi "restricted method\|native access" "$tmp/jdk25.err"; then cat "$tmp/jdk25.err" >&2; exit 1; fi
  # The same class from the class path (no manifest applies): the JDK does warn, so the check above can fail.
  run_example -cp "$pkgs/paytrim-auth-$version.jar" com.paytrim.auth.examples.GetToken
  grep -q "restricted method" "$tmp/jdk25.err" || { echo "expected the JDK's warning without the manifest" >&2; exit 1; }
  echo "   -jar: no warning; -cp: the JDK warns (the attribute is what silences it)"
  # Automatic-Module-Name: the jar is the named module com.paytrim.auth on the module path.
  module="$("$(dirname "$jdk25")/jar" --describe-module --file "$pkgs/paytrim-auth-$version.jar")"
  grep -qx "com.paytrim.auth@$version automatic" <<<"$module" || { echo "$module" >&2; exit 1; }
  echo "   module path: com.paytrim.auth@$version (automatic)"
else
  echo "-- no JDK 24+ found: the native-access warning check is SKIPPED"
fi

# ---- 5. mvn package with no library: a clear failure ----
step "mvn package without a built library fails and says what to build"
if (cd bindings/java && CARGO_TARGET_DIR="$tmp/no-target" mvn -B -q -Dpaytrim.build.dir="$tmp/mvn-build" package >"$tmp/mvn.log" 2>&1); then
  echo "mvn package succeeded with no native library" >&2; exit 1
fi
grep -q "paytrim-auth: the native library $tmp/no-target/release/libpaytrim_auth.so (platform linux-x64) does not exist" "$tmp/mvn.log"
grep -q "Build it first: \`cargo build --release\`" "$tmp/mvn.log"
[[ ! -e "$tmp/mvn-build/paytrim-auth-$version.jar" ]]

# ---- 6. CARGO_TARGET_DIR: no script hard-codes Cargo's output directory ----
step "scripts honour CARGO_TARGET_DIR (no hard-coded target/release)"
if grep -nE '(root|ROOT|REPO|here|HERE)/(\.\./)*target/release|[^$A-Za-z_{/]target/release' \
    scripts/*.sh bindings/*/test.sh bindings/*/*.sh bindings/*/*/*.sh tests/c/*.sh 2>/dev/null \
    | grep -v '^\S*:[0-9]*:\s*#'; then
  echo "hard-coded target/release above: use \${CARGO_TARGET_DIR:-target}" >&2; exit 1
fi
echo "packaging: ok ($(( $(date +%s) - t_start )) s)"
