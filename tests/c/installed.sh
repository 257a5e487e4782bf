#!/usr/bin/env bash
# The C library as a C user gets it: scripts/install.sh into a temporary
# prefix, then examples/get_token.c built against the installed files only
# (never target/ or include/ of this tree), once with pkg-config (shared, and
# static with the .pc's Libs.private), once with CMake (find_package(PaytrimAuth)
# -> PaytrimAuth::paytrim_auth and ::paytrim_auth_static, also from a DESTDIR-staged
# tree with a multiarch LIBDIR), and every binary run against the emulator. Usage: tests/c/installed.sh [emulator]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# Cargo's output directory: $CARGO_TARGET_DIR (relative to the repository) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"; [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
emulator="${1:-$target_dir/release/paytrim-entra-emulator}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
build="$work/build"
mkdir -p "$build"
fail() { echo "installed: FAILED: $*" >&2; exit 1; }
checks=0
ok() { checks=$((checks + 1)); }

"$root/scripts/install.sh" "$prefix"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
major="${version%%.*}"
lib="$prefix/lib"

# ---- the layout ----
[[ -f "$prefix/include/paytrim_auth.h" ]] || fail "no header"
cmp -s "$prefix/include/paytrim_auth.h" "$root/include/paytrim_auth.h" || fail "the installed header is not include/paytrim_auth.h"
[[ -f "$lib/libpaytrim_auth.so.$version" && ! -L "$lib/libpaytrim_auth.so.$version" ]] || fail "no libpaytrim_auth.so.$version"
[[ "$(readlink "$lib/libpaytrim_auth.so.$major")" == "libpaytrim_auth.so.$version" ]] || fail "libpaytrim_auth.so.$major is not a link to .so.$version"
[[ "$(readlink "$lib/libpaytrim_auth.so")" == "libpaytrim_auth.so.$major" ]] || fail "libpaytrim_auth.so is not a link to .so.$major"
soname="$(readelf -d "$lib/libpaytrim_auth.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[[ "$soname" == "libpaytrim_auth.so.$major" ]] || fail "soname is '$soname', not libpaytrim_auth.so.$major"
[[ -f "$lib/libpaytrim_auth.a" ]] || fail "no static library"
# (readelf, not nm: the objects also carry LLVM bitcode, which binutils' nm
# hands to an LLVM plugin that may be older than rustc's and then lists nothing.)
static_symbols="$(readelf -sW "$lib/libpaytrim_auth.a")"
grep -Eq 'FUNC +GLOBAL +DEFAULT +[0-9]+ paytrim_auth_client_get_token$' <<<"$static_symbols" ||
    fail "the static library does not define paytrim_auth_client_get_token"
[[ -f "$lib/cmake/PaytrimAuth/PaytrimAuthConfig.cmake" && -f "$lib/cmake/PaytrimAuth/PaytrimAuthConfigVersion.cmake" ]] ||
    fail "no CMake package files"
ok

# NEEDED entries of an ELF file, one a line.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
# A shared-library program must ask for the soname (what ldconfig and the
# runtime package provide), never the development link.
expect_shared() {
    needed "$1" | grep -qx "libpaytrim_auth.so.$major" || fail "$1 does not need libpaytrim_auth.so.$major: $(needed "$1" | tr '\n' ' ')"
    ok
}
expect_static() {
    ! needed "$1" | grep -q paytrim || fail "$1 (static) still needs a shared paytrim library"
    ok
}

# ---- pkg-config ----
export PKG_CONFIG_PATH="$lib/pkgconfig"
[[ "$(pkg-config --modversion paytrim-auth)" == "$version" ]] || fail "pkg-config --modversion"
cc_flags=(-std=c11 -Wall -Wextra -Werror -Wpedantic)
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
gcc "${cc_flags[@]}" "$root/examples/get_token.c" $(pkg-config --cflags --libs paytrim-auth) \
    -Wl,-rpath,"$(pkg-config --variable=libdir paytrim-auth)" -o "$build/get_token_pc"
expect_shared "$build/get_token_pc"
# Static: the archive by name, then the system libraries Libs.private lists
# (a list missing one fails to link).
static_flags="$(pkg-config --static --libs paytrim-auth)"
# shellcheck disable=SC2046,SC2086
gcc "${cc_flags[@]}" "$root/examples/get_token.c" $(pkg-config --cflags paytrim-auth) \
    ${static_flags//-lpaytrim_auth/-l:libpaytrim_auth.a} -o "$build/get_token_pc_static"
expect_static "$build/get_token_pc_static"

# ---- CMake (examples/CMakeLists.txt, the README's project) ----
# The README shows examples/CMakeLists.txt without its comments: the same lines.
python3 - "$root/README.md" "$root/examples/CMakeLists.txt" <<'PY' || fail "README's CMake snippet differs from examples/CMakeLists.txt"
import re, sys
readme = open(sys.argv[1], encoding="utf-8").read().split("## Install (C)", 1)[1].split("\n## ", 1)[0]
shown = re.search(r"```cmake\n(.*?)```", readme, re.S).group(1).strip().splitlines()
project = [l for l in open(sys.argv[2], encoding="utf-8").read().strip().splitlines() if not l.startswith("#")]
sys.exit(0 if shown == project else 1)
PY
cmake -S "$root/examples" -B "$build/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$build/cmake.log" 2>&1 || { cat "$build/cmake.log" >&2; fail "cmake configure"; }
cmake --build "$build/cmake" >>"$build/cmake.log" 2>&1 || { cat "$build/cmake.log" >&2; fail "cmake build"; }
expect_shared "$build/cmake/get_token"
expect_static "$build/cmake/get_token_static"
# The version file: a later major version is refused, this one accepted.
mkdir -p "$build/version"
for want in "$major.0:ok" "$major.0.0.1:ok" "$((major + 1)).0:refused"; do
    printf 'cmake_minimum_required(VERSION 3.14)\nproject(v C)\nfind_package(PaytrimAuth %s REQUIRED)\n' "${want%%:*}" \
        >"$build/version/CMakeLists.txt"
    if cmake -S "$build/version" -B "$build/version/b-${want%%:*}" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then got=ok; else got=refused; fi
    [[ "$got" == "${want#*:}" ]] || fail "find_package(PaytrimAuth ${want%%:*}) was $got"
done
ok

# ---- a staged, moved install (DESTDIR, a multiarch LIBDIR) ----
# Packagers install into DESTDIR; the CMake package finds the header and the
# library relative to itself, wherever the tree ends up.
DESTDIR="$work/stage" LIBDIR=/usr/lib/x86_64-linux-gnu "$root/scripts/install.sh" /usr 2>/dev/null
staged="$work/stage/usr/lib/x86_64-linux-gnu"
grep -qx 'libdir=${prefix}/lib/x86_64-linux-gnu' "$staged/pkgconfig/paytrim-auth.pc" || fail "the staged .pc names the wrong libdir"
cmake -S "$root/examples" -B "$build/staged" -DPaytrimAuth_DIR="$staged/cmake/PaytrimAuth" \
    >>"$build/cmake.log" 2>&1 || { cat "$build/cmake.log" >&2; fail "cmake configure (staged)"; }
cmake --build "$build/staged" --target get_token >>"$build/cmake.log" 2>&1 || { cat "$build/cmake.log" >&2; fail "cmake build (staged)"; }
expect_shared "$build/staged/get_token"

# ---- every binary against the emulator ----
coproc EMU { exec "$emulator" --exit-on-stdin-eof; }
read -r ready <&"${EMU[0]}"
trap 'exec {EMU[1]}>&-; wait "$EMU_PID" 2>/dev/null || true; rm -rf "$work"' EXIT
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }
for program in get_token_pc get_token_pc_static cmake/get_token cmake/get_token_static staged/get_token; do
    # No LD_LIBRARY_PATH: the shared builds find the library through their rpath and soname.
    env -u LD_LIBRARY_PATH PAYTRIM_CLIENT_ID="$(field client_id)" PAYTRIM_CLIENT_SECRET="$(field client_secret)" \
        PAYTRIM_TENANT_ID=contoso.onmicrosoft.com PAYTRIM_AUTHORITY_HOST="$(field https)" \
        PAYTRIM_CA_FILE="$(field ca_file)" "$build/$program" >"$build/out.json" || fail "$program exited with $?"
    python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
assert t["token_type"] == "Bearer" and t["access_token"] and 3500 < t["expires_in"] <= 3599, sorted(t)' "$build/out.json" ||
        fail "$program printed no token"
    ok
done
echo "installed: $checks passed, 0 failed"
