#!/usr/bin/env bash
# Install the Faceless SDK under PREFIX from a cargo build (`make install`
# runs the build first, then this):
#
#   PREFIX/bin/faceless                                   the command line tool
#   PREFIX/lib/libfaceless.so.VERSION, .so.0, .so         soname links, RUNPATH $ORIGIN
#   PREFIX/lib/libonnxruntime.so.1.31.1                   found beside libfaceless
#   PREFIX/lib/pkgconfig/faceless.pc                      Libs set the run path
#   PREFIX/lib/cmake/Faceless/FacelessConfig*.cmake       so does Faceless::faceless
#   PREFIX/include/faceless.h, faceless.hpp
#   PREFIX/share/faceless/bindings/{cpp,csharp,go}/       the bindings' sources
#       csharp/ is laid out as a NuGet package: runtimes/linux-x64/native/
#   PREFIX/share/licenses/faceless/                       LICENSE, model licences, MODEL_CARD.md
#   PREFIX/share/licenses/onnxruntime/                    ONNX Runtime's LICENSE and notices
#   PREFIX/share/doc/faceless/                            README.md, CHANGELOG.md
#
# Nothing under PREFIX names PREFIX (the pkg-config and CMake files find the
# tree relative to themselves), so the tree can be moved or archived
# (`make dist`).
#
# Usage: tools/install.sh PREFIX [release|debug]   (Linux x86_64)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${1:?usage: tools/install.sh PREFIX [release|debug]}"
profile="${2:-release}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
ort_lib=libonnxruntime.so.1.31.1
bin="$root/target/$profile/faceless"
[ -f "$bin" ] || { echo "install: $bin missing; run cargo build --release" >&2; exit 1; }
[ -f "$root/.runtime/$ort_lib" ] || { echo "install: .runtime/$ort_lib missing; run tools/fetch_onnxruntime.sh" >&2; exit 1; }
for f in LICENSE ThirdPartyNotices.txt; do
    [ -f "$root/.runtime/licenses/onnxruntime/$f" ] || {
        echo "install: .runtime/licenses/onnxruntime/$f missing; run tools/fetch_onnxruntime.sh" >&2; exit 1; }
done

# library, headers, pkg-config and CMake packages (shared with the binding tests)
prefix="$("$root/cmake/stage_sdk.sh" "$prefix" "$profile" | tail -n1)"
# stage_sdk copies ONNX Runtime only when present; it is required here
[ -f "$prefix/lib/$ort_lib" ]

# the command line tool; ONNX Runtime is looked for beside the executable
# (src/runtime.rs), so a relative link points there at the copy in lib/
install -d "$prefix/bin"
install -m 0755 "$bin" "$prefix/bin/faceless"
ln -sfn "../lib/$ort_lib" "$prefix/bin/$ort_lib"

# the bindings' sources
share="$prefix/share/faceless"
rm -rf "$share/bindings"
install -d "$share/bindings/cpp" "$share/bindings/csharp" "$share/bindings/go/faceless"
install -m 0644 "$root/bindings/README.md" "$share/bindings/"
find "$root/bindings/cpp" -name '*.hpp' -not -path '*/tests/*' -exec install -m 0644 {} "$share/bindings/cpp/" \;
for f in "$root"/bindings/cpp/README.md "$root"/bindings/csharp/README.md "$root"/bindings/go/README.md; do
    [ -f "$f" ] && install -m 0644 "$f" "$share/bindings/$(basename "$(dirname "$f")")/"
done
install -m 0644 "$root"/bindings/csharp/*.cs "$root/bindings/csharp/Faceless.csproj" "$share/bindings/csharp/"
install -m 0644 "$root/LICENSE" "$share/bindings/csharp/"
# NuGet's native-asset layout: DllImport("faceless") finds libfaceless.so
# there under .NET, and beside the application when copied (Mono). Relative
# links into lib/ rather than copies (the library is ~58 MB: the models are
# compiled in); `cp` and `dotnet pack` follow them.
native="$share/bindings/csharp/runtimes/linux-x64/native"
install -d "$native"
up=../../../../../../..   # native -> PREFIX
ln -sfn "$up/lib/libfaceless.so.$version" "$native/libfaceless.so"
ln -sfn "$up/lib/$ort_lib" "$native/$ort_lib"
install -m 0644 "$root/bindings/go/faceless/go.mod" "$share/bindings/go/faceless/"
for f in "$root"/bindings/go/faceless/*.go; do
    case "$f" in *_test.go) ;; *) install -m 0644 "$f" "$share/bindings/go/faceless/" ;; esac
done

# licences and notices
lic="$prefix/share/licenses"
rm -rf "$lic/faceless" "$lic/onnxruntime"
install -d "$lic/faceless/models" "$lic/onnxruntime"
install -m 0644 "$root/LICENSE" "$root/MODEL_CARD.md" "$lic/faceless/"
for m in mtcnn classifier classifier-fast backbones; do
    install -m 0644 "$root/models/$m/README.md" "$lic/faceless/models/$m.md"
done
install -m 0644 "$root/models/classifier/THIRD_PARTY_LICENSES.txt" "$lic/faceless/models/classifier-third-party.txt"
install -m 0644 "$root"/.runtime/licenses/onnxruntime/* "$lic/onnxruntime/"

install -d "$prefix/share/doc/faceless"
install -m 0644 "$root/README.md" "$root/CHANGELOG.md" "$prefix/share/doc/faceless/"
echo "$prefix"
