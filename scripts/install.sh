#!/usr/bin/env bash
# Installs the C library the way C users expect (cargo-c's layout):
#
#   PREFIX/include/paytrim_auth.h
#   LIBDIR/libpaytrim_auth.so.0.1.0                 the shared library (soname libpaytrim_auth.so.0)
#   LIBDIR/libpaytrim_auth.so.0 -> .so.0.1.0        what programs load at run time
#   LIBDIR/libpaytrim_auth.so   -> .so.0            what `-lpaytrim_auth` finds at link time
#   LIBDIR/libpaytrim_auth.a                        the static library
#   LIBDIR/pkgconfig/paytrim-auth.pc                pkg-config (Libs.private: the static library's system libraries)
#   LIBDIR/cmake/PaytrimAuth/PaytrimAuthConfig.cmake (+ ...ConfigVersion.cmake)
#                                                   find_package(PaytrimAuth) -> PaytrimAuth::paytrim_auth
#                                                   (and PaytrimAuth::paytrim_auth_static)
#
# On macOS: libpaytrim_auth.0.1.0.dylib, libpaytrim_auth.0.dylib, libpaytrim_auth.dylib,
# the install name set to LIBDIR/libpaytrim_auth.0.dylib (reviewed, not run here).
#
# Usage: scripts/install.sh PREFIX
#   LIBDIR      where libraries go (default PREFIX/lib; e.g. PREFIX/lib/x86_64-linux-gnu)
#   INCLUDEDIR  where the header goes (default PREFIX/include)
#   DESTDIR     staging root for packagers: files go to DESTDIR/PREFIX/..., while
#               the .pc and CMake files name PREFIX
# Builds the library (release) with cargo first. Run `ldconfig` afterwards when
# PREFIX is a system prefix (/usr/local).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
(($# == 1)) || { echo "usage: $0 PREFIX" >&2; exit 2; }
prefix="$1"
[[ "$prefix" == /* ]] || { echo "install.sh: PREFIX must be an absolute path, got '$prefix'" >&2; exit 2; }
prefix="${prefix%/}"
libdir="${LIBDIR:-$prefix/lib}"
includedir="${INCLUDEDIR:-$prefix/include}"
destdir="${DESTDIR:-}"

cd "$root"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
major="${version%%.*}"
os="$(uname -s)"

# One compilation gives both libraries. The staticlib is asked for here, not
# in Cargo.toml, so that builds and tests (debug ones too) do not write a
# 60 MB archive each time. rlib stays in the list: without it cargo would
# build every dependency again in another LTO mode (minutes, not seconds).
# rustc prints the system libraries the static library needs
# (`native-static-libs`); cargo replays the note when the build is fresh.
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
build_log="$(mktemp)"
trap 'rm -f "$build_log"' EXIT
echo "== cargo rustc --release --crate-type rlib,cdylib,staticlib (paytrim-auth $version)" >&2
cargo rustc --release --locked -p paytrim-auth --lib --crate-type rlib --crate-type cdylib --crate-type staticlib \
    -- --print native-static-libs 2>"$build_log" || { cat "$build_log" >&2; exit 1; }
static_libs="$(sed -n 's/.*native-static-libs: *//p' "$build_log" | tail -n1)"
[[ -n "$static_libs" ]] || { cat "$build_log" >&2; echo "install.sh: rustc printed no native-static-libs" >&2; exit 1; }

case "$os" in
    Darwin)
        shared_built="$target_dir/release/libpaytrim_auth.dylib"
        shared_real="libpaytrim_auth.$version.dylib"
        shared_runtime="libpaytrim_auth.$major.dylib"
        shared_dev="libpaytrim_auth.dylib" ;;
    *)
        shared_built="$target_dir/release/libpaytrim_auth.so"
        shared_real="libpaytrim_auth.so.$version"
        shared_runtime="libpaytrim_auth.so.$major"
        shared_dev="libpaytrim_auth.so" ;;
esac
static_built="$target_dir/release/libpaytrim_auth.a"

d_lib="$destdir$libdir" d_inc="$destdir$includedir"
d_cmake="$d_lib/cmake/PaytrimAuth"
mkdir -p "$d_lib/pkgconfig" "$d_inc" "$d_cmake"

install -m 644 include/paytrim_auth.h "$d_inc/paytrim_auth.h"
install -m 755 "$shared_built" "$d_lib/$shared_real"
ln -sfn "$shared_real" "$d_lib/$shared_runtime"
ln -sfn "$shared_runtime" "$d_lib/$shared_dev"
install -m 644 "$static_built" "$d_lib/libpaytrim_auth.a"
if [[ "$os" == Darwin ]]; then
    # build.rs links with install name @rpath/libpaytrim_auth.<major>.dylib; an
    # installed copy names its absolute path (as Homebrew's and cargo-c's do),
    # so programs linked against it need no rpath. The edit voids the ad-hoc
    # signature arm64 requires: sign again.
    install_name_tool -id "$libdir/$shared_runtime" "$d_lib/$shared_real"
    codesign --force --sign - "$d_lib/$shared_real"
fi

# Paths in the .pc file relative to its prefix when they are under it.
pc_path() { [[ "$1" == "$prefix"/* ]] && echo "\${prefix}${1#"$prefix"}" || echo "$1"; }
cat >"$d_lib/pkgconfig/paytrim-auth.pc" <<EOF
prefix=$prefix
libdir=$(pc_path "$libdir")
includedir=$(pc_path "$includedir")

Name: paytrim-auth
Description: OAuth 2.0 client-credentials tokens from Microsoft Entra ID, fetched, cached and refreshed, behind a C ABI
Version: $version
Libs: -L\${libdir} -lpaytrim_auth
Libs.private: $static_libs
Cflags: -I\${includedir}
EOF

# CMake: the package finds itself from where it is installed (relocatable).
# IMPORTED_SONAME is what a program records as its dependency (NEEDED).
cmake_static_libs=""
for flag in $static_libs; do
    case "$flag" in
        -l*) cmake_static_libs+="${flag#-l};" ;;
        -framework) cmake_static_libs+="-framework " ;;
        *) cmake_static_libs+="$flag;" ;;
    esac
done
cmake_static_libs="${cmake_static_libs%;}"
cat >"$d_cmake/PaytrimAuthConfig.cmake" <<EOF
# PaytrimAuth $version, installed by paytrim-auth's scripts/install.sh.
#   find_package(PaytrimAuth $major.${version#*.} REQUIRED)  (a version is optional)
#   target_link_libraries(app PRIVATE PaytrimAuth::paytrim_auth)          # shared
#   target_link_libraries(app PRIVATE PaytrimAuth::paytrim_auth_static)   # static
get_filename_component(_paytrim_auth_dir "\${CMAKE_CURRENT_LIST_DIR}" ABSOLUTE)
file(RELATIVE_PATH _paytrim_auth_rel "$libdir/cmake/PaytrimAuth" "$includedir")
get_filename_component(_paytrim_auth_include "\${_paytrim_auth_dir}/\${_paytrim_auth_rel}" ABSOLUTE)
get_filename_component(_paytrim_auth_libdir "\${_paytrim_auth_dir}/../.." ABSOLUTE)

if(NOT TARGET PaytrimAuth::paytrim_auth)
  add_library(PaytrimAuth::paytrim_auth SHARED IMPORTED)
  set_target_properties(PaytrimAuth::paytrim_auth PROPERTIES
    IMPORTED_LOCATION "\${_paytrim_auth_libdir}/$shared_real"
    IMPORTED_SONAME "$( [[ "$os" == Darwin ]] && echo "$libdir/$shared_runtime" || echo "$shared_runtime")"
    INTERFACE_INCLUDE_DIRECTORIES "\${_paytrim_auth_include}")
endif()
if(NOT TARGET PaytrimAuth::paytrim_auth_static)
  add_library(PaytrimAuth::paytrim_auth_static STATIC IMPORTED)
  set_target_properties(PaytrimAuth::paytrim_auth_static PROPERTIES
    IMPORTED_LOCATION "\${_paytrim_auth_libdir}/libpaytrim_auth.a"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C"
    INTERFACE_INCLUDE_DIRECTORIES "\${_paytrim_auth_include}"
    INTERFACE_LINK_LIBRARIES "$cmake_static_libs")
endif()
unset(_paytrim_auth_dir)
unset(_paytrim_auth_rel)
unset(_paytrim_auth_include)
unset(_paytrim_auth_libdir)
EOF

# Same major version = compatible (the soname's promise); 0.x included.
cat >"$d_cmake/PaytrimAuthConfigVersion.cmake" <<EOF
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif(NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
# A 64-bit library: refuse it to a 32-bit build.
if(CMAKE_SIZEOF_VOID_P AND NOT CMAKE_SIZEOF_VOID_P STREQUAL "8")
  set(PACKAGE_VERSION "\${PACKAGE_VERSION} (64bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
EOF

echo "installed paytrim-auth $version into $destdir$prefix (libraries in $destdir$libdir)" >&2
