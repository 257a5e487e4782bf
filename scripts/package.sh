#!/usr/bin/env bash
# Assembles the release packages from native libraries, and checks their layout:
#   paytrim-auth-V.jar (+ -sources.jar, -javadoc.jar, .pom)   native/<rid>/<file>
#   Paytrim.Auth.V.nupkg                                       runtimes/<rid>/native/<file>
#   paytrim-auth-V.tgz (npm, koffi bundled)                    prebuilds/<platform>-<arch>[-musl]/<file>
# each carrying every platform given, with the file name of its OS
# (libpaytrim_auth.so, libpaytrim_auth.dylib, paytrim_auth.dll).
#
# Usage: scripts/package.sh [NATIVES_DIR]
#   NATIVES_DIR  holds <rid>/<file> for any of linux-x64 linux-arm64 linux-musl-x64
#                linux-musl-arm64 osx-x64 osx-arm64 win-x64 win-arm64 (release.yml
#                downloads the build artifacts there). Without it: this machine's
#                library from ${CARGO_TARGET_DIR:-target}/release, as linux-x64.
# Output: ${CARGO_TARGET_DIR:-target}/packages/ (PAYTRIM_PACKAGES_DIR overrides).
# Env: PAYTRIM_REQUIRE_ALL_PLATFORMS=1  fail unless all 8 platforms are given (release.yml)
#      PAYTRIM_PACKAGES="java csharp node"  a subset
#      PAYTRIM_PACKAGE_JAVA_DOCS=0  no sources and javadoc jars (quicker layout checks)
# Needs: mvn + JDK, mcs + nuget (Mono), node + npm, unzip. Nothing is built in the source tree.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

RIDS=(linux-x64 linux-arm64 linux-musl-x64 linux-musl-arm64 osx-x64 osx-arm64 win-x64 win-arm64)
file_for() { case "$1" in win-*) echo paytrim_auth.dll ;; osx-*) echo libpaytrim_auth.dylib ;; *) echo libpaytrim_auth.so ;; esac; }
# Node's names: process.platform-process.arch, -musl for musl Linux.
node_dir() {
  local rid="$1" os arch musl=""
  os="${rid%%-*}"; arch="${rid##*-}"
  [[ "$rid" == *-musl-* ]] && musl="-musl"
  case "$os" in osx) os=darwin ;; win) os=win32 ;; esac
  echo "$os-$arch$musl"
}

target="${CARGO_TARGET_DIR:-target}"
[[ "$target" = /* ]] || target="$root/$target"
out="${PAYTRIM_PACKAGES_DIR:-$target/packages}"
work="$out/.work"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
[[ -n "$version" ]] || { echo "package.sh: no version in Cargo.toml" >&2; exit 1; }
only="${PAYTRIM_PACKAGES:-java csharp node}"

# ---- the natives, staged as <rid>/<file> ----
rm -rf "$work"
mkdir -p "$work/natives" "$out"
if [[ $# -ge 1 ]]; then
  src="$(cd "$1" && pwd)"
  for d in "$src"/*; do
    [[ -d "$d" ]] || continue
    rid="$(basename "$d")"
    if [[ " ${RIDS[*]} " != *" $rid "* ]]; then
      echo "package.sh: $d: '$rid' is not a platform id (${RIDS[*]})" >&2; exit 1
    fi
    f="$(file_for "$rid")"
    [[ -f "$d/$f" ]] || { echo "package.sh: $d has no $f (the $rid library)" >&2; exit 1; }
    mkdir -p "$work/natives/$rid"
    cp "$d/$f" "$work/natives/$rid/$f"
  done
else
  lib="$target/release/libpaytrim_auth.so"
  [[ -f "$lib" ]] || { echo "package.sh: $lib not found: build it first (cargo build --release), or pass a natives directory" >&2; exit 1; }
  mkdir -p "$work/natives/linux-x64"
  cp "$lib" "$work/natives/linux-x64/"
fi
present=()
for rid in "${RIDS[@]}"; do [[ -d "$work/natives/$rid" ]] && present+=("$rid"); done
((${#present[@]})) || { echo "package.sh: no native library given" >&2; exit 1; }
if [[ "${PAYTRIM_REQUIRE_ALL_PLATFORMS:-0}" == 1 && ${#present[@]} -ne ${#RIDS[@]} ]]; then
  echo "package.sh: PAYTRIM_REQUIRE_ALL_PLATFORMS=1 but only ${present[*]} given" >&2; exit 1
fi
echo "== package.sh $version: ${present[*]} -> $out"

# ---- layout check: every platform at its place, nothing else native ----
# check_layout NAME LISTING EXPECTED... : LISTING is one entry per line.
check_layout() {
  local name="$1" listing="$2"; shift 2
  local bad=0 e
  for e in "$@"; do
    grep -qxF "$e" <<<"$listing" || { echo "package.sh: $name lacks $e" >&2; bad=1; }
  done
  # Native files anywhere else (a stray copy, a wrong folder) are errors too.
  while IFS= read -r e; do
    case "$e" in *libpaytrim_auth.so|*libpaytrim_auth.dylib|*paytrim_auth.dll)
      local ok=0 x
      for x in "$@"; do [[ "$e" == "$x" ]] && ok=1; done
      ((ok)) || { echo "package.sh: $name has an unexpected native file $e" >&2; bad=1; } ;;
    esac
  done <<<"$listing"
  ((bad == 0)) && echo "   $name: layout ok ($(wc -l <<<"$listing") entries)"
  return "$bad"
}

# ---- Java: one jar with native/<rid>/, plus sources, javadoc, pom ----
if [[ " $only " == *" java "* ]]; then
  echo "== java"
  # enforcer.skip: the host-library check is for a developer's `mvn package`; here natives.dir carries them.
  docs=1; [[ "${PAYTRIM_PACKAGE_JAVA_DOCS:-1}" == 0 ]] && docs=0
  skip_docs=(); ((docs)) || skip_docs=(-Dmaven.javadoc.skip=true -Dmaven.source.skip=true)
  (cd bindings/java && mvn -q -B -DskipTests -Denforcer.skip=true "${skip_docs[@]}" \
    -Dpaytrim.build.dir="$work/java" -Dpaytrim.natives.dir="$work/natives" \
    -Dpaytrim.native.dir="$work/no-host-library" package 2>&1 | sed -u 's/\x1b\[0m//g')
  cp "$work/java/paytrim-auth-$version.jar" "$out/"
  ((docs)) && for c in -sources -javadoc; do cp "$work/java/paytrim-auth-$version$c.jar" "$out/"; done
  cp bindings/java/pom.xml "$out/paytrim-auth-$version.pom"
  exp=(META-INF/MANIFEST.MF com/paytrim/auth/PaytrimAuthClient.class com/paytrim/auth/NativePlatform.class)
  for rid in "${present[@]}"; do exp+=("native/$rid/$(file_for "$rid")"); done
  check_layout "paytrim-auth-$version.jar" "$(unzip -Z1 "$out/paytrim-auth-$version.jar")" "${exp[@]}"
  manifest="$(unzip -p "$out/paytrim-auth-$version.jar" META-INF/MANIFEST.MF | tr -d '\r')"
  for h in "Automatic-Module-Name: com.paytrim.auth" "Enable-Native-Access: ALL-UNNAMED" "Implementation-Version: $version"; do
    grep -qxF "$h" <<<"$manifest" || { echo "package.sh: the jar's manifest lacks '$h'" >&2; exit 1; }
  done
  if ((docs)); then
    check_layout "paytrim-auth-$version-sources.jar" "$(unzip -Z1 "$out/paytrim-auth-$version-sources.jar")" \
      com/paytrim/auth/PaytrimAuthClient.java
    check_layout "paytrim-auth-$version-javadoc.jar" "$(unzip -Z1 "$out/paytrim-auth-$version-javadoc.jar")" \
      index.html com/paytrim/auth/PaytrimAuthClient.html
  fi
fi

# ---- C#: one nupkg with runtimes/<rid>/native/ ----
if [[ " $only " == *" csharp "* ]]; then
  echo "== csharp"
  cs="$work/csharp"
  mkdir -p "$cs/build"
  mcs -langversion:7.2 -debug- -optimize+ -nologo -warnaserror+ -target:library -unsafe \
    -doc:"$cs/Paytrim.Auth.xml" -out:"$cs/Paytrim.Auth.dll" bindings/csharp/src/*.cs
  cp bindings/csharp/src/Paytrim.Auth.dll.config bindings/csharp/msbuild/Paytrim.Auth.targets "$cs/"
  mkdir -p "$cs/azure" && cp bindings/csharp/azure/PaytrimTokenCredential.cs "$cs/azure/"
  for rid in "${present[@]}"; do
    mkdir -p "$cs/runtimes/$rid/native"
    cp "$work/natives/$rid/$(file_for "$rid")" "$cs/runtimes/$rid/native/"
  done
  # -NoPackageAnalysis: Debian's nuget 2.8.7 predates .NET Standard and calls lib/netstandard2.0/
  # an "invalid framework folder" (it is the right one for NuGet >= 3.4); the layout is checked below.
  # Debian's nuget 2.8.7 knows neither <license> nor <repository> (NuGet >= 4.9): it packs a copy
  # without them, and the package gets the full Paytrim.Auth.nuspec after. -NoPackageAnalysis: 2.8.7
  # predates .NET Standard and calls lib/netstandard2.0/ an "invalid framework folder" (it is the
  # right one for NuGet >= 3.4); the layout is checked below instead.
  sed -e '/<license /d' -e '/<repository /d' -e '/<contentFiles>/,/<\/contentFiles>/d' \
    -e 's|2013/05/nuspec.xsd|2010/07/nuspec.xsd|' \
    bindings/csharp/Paytrim.Auth.nuspec >"$cs/Paytrim.Auth.nuspec"
  log="$(cd "$cs" && HOME="${HOME:-$cs}" nuget pack "$cs/Paytrim.Auth.nuspec" -NonInteractive \
    -NoDefaultExcludes -NoPackageAnalysis -BasePath "$cs" -OutputDirectory "$out" 2>&1)" || { echo "$log" >&2; exit 1; }
  if grep -qi "warn\|issue" <<<"$log"; then echo "$log" >&2; echo "package.sh: nuget pack warned" >&2; exit 1; fi
  mkdir -p "$cs/full" && cp bindings/csharp/Paytrim.Auth.nuspec "$cs/full/"
  (cd "$cs/full" && zip -q "$out/Paytrim.Auth.$version.nupkg" Paytrim.Auth.nuspec)
  nuspec="$(unzip -p "$out/Paytrim.Auth.$version.nupkg" Paytrim.Auth.nuspec)"
  for m in '<license type="expression">' '<repository type="git"' '<releaseNotes>' '<contentFiles>' "<version>$version</version>"; do
    grep -qF "$m" <<<"$nuspec" || { echo "package.sh: the nupkg's nuspec lacks $m" >&2; exit 1; }
  done
  exp=(Paytrim.Auth.nuspec lib/netstandard2.0/Paytrim.Auth.dll lib/netstandard2.0/Paytrim.Auth.xml
    lib/netstandard2.0/Paytrim.Auth.dll.config build/Paytrim.Auth.targets buildTransitive/Paytrim.Auth.targets
    contentFiles/cs/any/PaytrimAuth/Azure/PaytrimTokenCredential.cs)
  for rid in "${present[@]}"; do exp+=("runtimes/$rid/native/$(file_for "$rid")"); done
  check_layout "Paytrim.Auth.$version.nupkg" "$(unzip -Z1 "$out/Paytrim.Auth.$version.nupkg")" "${exp[@]}"
fi

# ---- Node: one tarball with prebuilds/<platform>-<arch>[-musl]/ and koffi bundled ----
if [[ " $only " == *" node "* ]]; then
  echo "== node"
  np="$work/node/paytrim-auth"
  mkdir -p "$np"
  (cd bindings/node && cp -r package.json package-lock.json index.js index.mjs index.d.ts lib scripts README.md "$np/")
  for rid in "${present[@]}"; do
    mkdir -p "$np/prebuilds/$(node_dir "$rid")"
    cp "$work/natives/$rid/$(file_for "$rid")" "$np/prebuilds/$(node_dir "$rid")/"
  done
  # koffi and its native part for every platform given (@koromix/koffi-<platform>-<arch>: it
  # carries both glibc and musl builds), bundled: this machine's from npm ci, the others from
  # the npm registry (npm pack), at the version package.json pins.
  if [[ -d bindings/node/node_modules/koffi ]]; then
    mkdir -p "$np/node_modules/@koromix" && cp -r bindings/node/node_modules/koffi "$np/node_modules/"
    cp -r bindings/node/node_modules/@koromix/. "$np/node_modules/@koromix/"
  else
    (cd "$np" && npm ci --omit=dev --no-audit --no-fund --silent)
  fi
  koffi_pkgs=()
  for rid in "${present[@]}"; do
    d="$(node_dir "$rid")"; d="${d%-musl}"
    [[ " ${koffi_pkgs[*]} " == *" $d "* ]] || koffi_pkgs+=("$d")
  done
  for d in "${koffi_pkgs[@]}"; do
    dest="$np/node_modules/@koromix/koffi-$d"
    [[ -f "$dest/package.json" ]] && continue
    v="$(node -p "require('$np/package.json').optionalDependencies['@koromix/koffi-$d']")"
    [[ "$v" != undefined ]] || { echo "package.sh: package.json has no optionalDependencies['@koromix/koffi-$d']" >&2; exit 1; }
    mkdir -p "$work/koffi-$d" "$dest"
    (cd "$work/koffi-$d" && npm pack --silent "@koromix/koffi-$d@$v" >/dev/null)
    tar xzf "$work/koffi-$d"/*.tgz -C "$dest" --strip-components=1
  done
  (cd "$np" && CARGO_TARGET_DIR=/nonexistent npm pack --silent --pack-destination "$out" >/dev/null)
  exp=(package/package.json package/index.js package/index.mjs package/index.d.ts package/lib/platform.js
    package/lib/native.js package/node_modules/koffi/package.json)
  for rid in "${present[@]}"; do exp+=("package/prebuilds/$(node_dir "$rid")/$(file_for "$rid")"); done
  for d in "${koffi_pkgs[@]}"; do exp+=("package/node_modules/@koromix/koffi-$d/package.json"); done
  listing="$(tar tzf "$out/paytrim-auth-$version.tgz")"
  check_layout "paytrim-auth-$version.tgz" "$listing" "${exp[@]}"
  if grep -q '^package/\(test\|bench\|scripts\)/' <<<"$listing"; then
    echo "package.sh: the npm tarball carries tests, benches or scripts" >&2; exit 1
  fi
fi

rm -rf "$work"
echo "== packages in $out:"
for f in "$out"/*.jar "$out"/*.pom "$out"/*.nupkg "$out"/*.tgz; do
  [[ -f "$f" ]] && printf '   %10d  %s\n' "$(stat -c %s "$f")" "${f##*/}"
done
exit 0
