#!/usr/bin/env bash
# Lay out the Faceless C SDK under PREFIX from a cargo build:
#
#   PREFIX/include/faceless.h, faceless.hpp
#   PREFIX/lib/libfaceless.so.VERSION, libfaceless.so.0 -> ..., libfaceless.so -> ...
#       (soname libfaceless.so.0, RUNPATH $ORIGIN: set by build.rs)
#   PREFIX/lib/libonnxruntime.so.*      (when fetched; found beside libfaceless)
#   PREFIX/lib/pkgconfig/faceless.pc
#   PREFIX/lib/cmake/Faceless/FacelessConfig.cmake, FacelessConfigVersion.cmake
#       (both find PREFIX relative to themselves and add -Wl,-rpath,PREFIX/lib
#       to the link, so applications run without LD_LIBRARY_PATH)
#
# tools/install.sh (make install) adds the CLI, bindings and licences.
#
# Usage: cmake/stage_sdk.sh PREFIX [debug|release]   (Linux)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${1:?usage: stage_sdk.sh PREFIX [debug|release]}"
profile="${2:-debug}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
lib="$root/target/$profile/libfaceless.so"
[ -f "$lib" ] || { echo "stage_sdk: $lib missing; run cargo build (with --release for release)" >&2; exit 1; }

mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/Faceless"

cp -f "$root/include/faceless.h" "$prefix/include/"
# the C++ header(s): bindings/cpp/*.hpp (or bindings/cpp/include/*.hpp)
find "$root/bindings/cpp" -name '*.hpp' -not -path '*/tests/*' -exec cp -f {} "$prefix/include/" \;
rm -f "$prefix/lib/libfaceless.so"*
cp -f "$lib" "$prefix/lib/libfaceless.so.$version"
ln -s "libfaceless.so.$version" "$prefix/lib/libfaceless.so.0"
ln -s "libfaceless.so.0" "$prefix/lib/libfaceless.so"
for ort in "$root"/.runtime/libonnxruntime.so.*; do
    [ -f "$ort" ] && cp -f "$ort" "$prefix/lib/"
done

sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" \
    "$root/faceless.pc.in" > "$prefix/lib/pkgconfig/faceless.pc"
cp -f "$root/cmake/FacelessConfig.cmake" "$prefix/lib/cmake/Faceless/"
sed -e "s|@VERSION@|$version|g" "$root/cmake/FacelessConfigVersion.cmake.in" \
    > "$prefix/lib/cmake/Faceless/FacelessConfigVersion.cmake"
echo "$prefix"
