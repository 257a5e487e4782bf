#!/usr/bin/env bash
# Builds the C# wrapper with Mono's mcs, packs the .nupkg with Debian's nuget, and runs the
# NUnit suite (Debian's nunit-console 2.6) against the project's Entra emulator.
#   PAYTRIM_AUTH_LIB   absolute path of libpaytrim_auth.so      (default: built here)
#   PAYTRIM_EMULATOR   absolute path of paytrim-entra-emulator  (default: built here)
# Extra arguments go to nunit-console (e.g. -run=Paytrim.Auth.Tests.ClientTests).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac
BUILD="$HERE/build"

# ---- tools (Debian packages) ----
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
NUNIT_FW=/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll
need=()
command -v mcs >/dev/null 2>&1 || need+=(mono-mcs)
command -v mono >/dev/null 2>&1 || need+=(mono-runtime)
command -v nunit-console >/dev/null 2>&1 || need+=(nunit-console)
command -v nuget >/dev/null 2>&1 || need+=(nuget)
[ -f "$NUNIT_FW" ] || need+=(libnunit-framework2.6.3-cil)
[ -f /usr/lib/mono/4.5/System.dll ] || need+=(libmono-system4.0-cil)
command -v "${CC:-cc}" >/dev/null 2>&1 || need+=(gcc)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
  echo "== installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y --no-install-recommends "${need[@]}" \
    || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${need[@]}"; }
fi

# ---- native library and emulator ----
if [ -z "${PAYTRIM_AUTH_LIB:-}" ] || [ -z "${PAYTRIM_EMULATOR:-}" ]; then
  echo "== cargo build --release -p paytrim-auth -p paytrim-entra-emulator"
  (cd "$ROOT" && cargo build --release -p paytrim-auth -p paytrim-entra-emulator)
  : "${PAYTRIM_AUTH_LIB:=$target_dir/release/libpaytrim_auth.so}"
  : "${PAYTRIM_EMULATOR:=$target_dir/release/paytrim-entra-emulator}"
fi
[ -f "$PAYTRIM_AUTH_LIB" ] || { echo "PAYTRIM_AUTH_LIB=$PAYTRIM_AUTH_LIB does not exist" >&2; exit 1; }
[ -x "$PAYTRIM_EMULATOR" ] || { echo "PAYTRIM_EMULATOR=$PAYTRIM_EMULATOR is not executable" >&2; exit 1; }

# ---- build ----
rm -rf "$BUILD"
mkdir -p "$BUILD/pkg"
MCS=(mcs -langversion:7.2 -debug- -optimize+ -nologo -warnaserror+)
echo "== mcs: Paytrim.Auth.dll"
"${MCS[@]}" -target:library -unsafe -doc:"$BUILD/Paytrim.Auth.xml" -out:"$BUILD/Paytrim.Auth.dll" "$HERE"/src/*.cs
cp "$HERE/src/Paytrim.Auth.dll.config" "$BUILD/"
# Mono (dllmap) and .NET both look next to Paytrim.Auth.dll first.
cp "$PAYTRIM_AUTH_LIB" "$BUILD/libpaytrim_auth.so"
echo "== mcs: Paytrim.Auth.Tests.dll, example, bench"
"${MCS[@]}" -target:library -out:"$BUILD/Paytrim.Auth.Tests.dll" \
  -r:"$BUILD/Paytrim.Auth.dll" -r:"$NUNIT_FW" -r:System.dll -r:System.Core.dll "$HERE"/tests/*.cs
cp "$NUNIT_FW" "$BUILD/"
"${MCS[@]}" -target:exe -out:"$BUILD/GetToken.exe" -r:"$BUILD/Paytrim.Auth.dll" "$HERE/examples/GetToken.cs"
"${MCS[@]}" -target:exe -out:"$BUILD/Bench.exe" -r:"$BUILD/Paytrim.Auth.dll" "$HERE/bench/Bench.cs"

# A library with another ABI version, for the load-time check (LifecycleTests.AbiMismatchIsRefused).
mkdir -p "$BUILD/abi-mismatch"
"${CC:-cc}" -shared -fPIC -o "$BUILD/abi-mismatch/libpaytrim_auth.so" "$HERE/tests/abi/fake_paytrim_auth.c"
cp "$BUILD/Paytrim.Auth.dll" "$BUILD/Paytrim.Auth.dll.config" "$BUILD/abi-mismatch/"
"${MCS[@]}" -target:exe -out:"$BUILD/abi-mismatch/AbiProbe.exe" -r:"$BUILD/Paytrim.Auth.dll" "$HERE/tests/abi/AbiProbe.cs"

# A probe run in child processes with a chosen environment (CredentialTests: FromEnvironment).
"${MCS[@]}" -target:exe -out:"$BUILD/EnvProbe.exe" -r:"$BUILD/Paytrim.Auth.dll" "$HERE/tests/env/EnvProbe.cs"

# The Azure.Core TokenCredential adapter (azure/PaytrimTokenCredential.cs, shipped as source)
# compiled against a stand-in of the Azure.Core types it uses: a SYNTAX CHECK only, since
# Azure.Core cannot be fetched here (AzureAdapterTests runs the probe against the emulator).
"${MCS[@]}" -target:exe -out:"$BUILD/AzureAdapterProbe.exe" -r:"$BUILD/Paytrim.Auth.dll" -define:PAYTRIM_AUTH_AZURE \
  "$HERE/azure/PaytrimTokenCredential.cs" "$HERE"/azure/syntax-check/*.cs

# ---- package ----
# The release layout (runtimes/<rid>/native/), assembled as scripts/package.sh does, with this library alone.
echo "== nuget pack (scripts/package.sh)"
mkdir -p "$BUILD/natives/linux-x64"
cp "$PAYTRIM_AUTH_LIB" "$BUILD/natives/linux-x64/libpaytrim_auth.so"
PAYTRIM_PACKAGES=csharp PAYTRIM_PACKAGES_DIR="$BUILD/pkg" "$ROOT/scripts/package.sh" "$BUILD/natives"
NUPKG="$(ls "$BUILD"/pkg/Paytrim.Auth.*.nupkg)"
[ -f "$NUPKG" ] || { echo "nuget pack produced no $NUPKG" >&2; exit 1; }
# The package as NuGet extracts it, and a program built against it outside the build folder
# (PackageInstallTests: Mono loads runtimes/linux-x64/native/ from there).
rm -rf "$BUILD/nupkg-installed" "$BUILD/nupkg-app" && mkdir -p "$BUILD/nupkg-installed" "$BUILD/nupkg-app"
(cd "$BUILD/nupkg-installed" && unzip -q "$NUPKG")
"${MCS[@]}" -target:exe -out:"$BUILD/nupkg-app/PackageProbe.exe" \
  -r:"$BUILD/nupkg-installed/lib/netstandard2.0/Paytrim.Auth.dll" "$HERE/tests/package/PackageProbe.cs"

# ---- tests ----
echo "== nunit-console"
export PAYTRIM_EMULATOR PAYTRIM_REPO_ROOT="$ROOT" PAYTRIM_CS_NUPKG="$NUPKG" PAYTRIM_CS_ABI_PROBE="$BUILD/abi-mismatch/AbiProbe.exe"
export PAYTRIM_CS_ENV_PROBE="$BUILD/EnvProbe.exe" PAYTRIM_CS_AZURE_PROBE="$BUILD/AzureAdapterProbe.exe"
export PAYTRIM_CS_PACKAGE_PROBE="$BUILD/nupkg-app/PackageProbe.exe" PAYTRIM_CS_PACKAGE_DIR="$BUILD/nupkg-installed"
export LD_LIBRARY_PATH="$BUILD${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The tests talk only to loopback servers they start, so a proxy in the environment must not
# matter: every run proves it by pointing each proxy variable at a dead port, NO_PROXY unset.
dead=http://127.0.0.1:9
export HTTPS_PROXY=$dead https_proxy=$dead HTTP_PROXY=$dead http_proxy=$dead ALL_PROXY=$dead all_proxy=$dead
unset NO_PROXY no_proxy
cd "$BUILD"
set +e
nunit-console "$BUILD/Paytrim.Auth.Tests.dll" -nologo -noshadow -labels \
  -xml="$BUILD/TestResult.xml" "$@"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "C# tests FAILED (nunit-console exit $rc)" >&2
  exit 1
fi
echo "C# tests passed"
