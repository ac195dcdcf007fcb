#!/usr/bin/env bash
# Every documented route, as a user takes it: `make install PREFIX=$tmp/prefix`,
# then, each in its own directory OUTSIDE the repository and run with NO
# LD_LIBRARY_PATH and NO ORT_DYLIB_PATH:
#   1. the installed layout: soname links, SONAME/RUNPATH, headers, packages,
#      licences;
#   2. the `faceless` CLI from PREFIX/bin;
#   3. a C app through pkg-config;
#   4. a C++ app through find_package(Faceless), also after `cmake --install`;
#   5. a Go program in its own module (replace -> PREFIX/share/faceless/bindings/go/faceless);
#   6. a C# program (mcs + mono) against the installed sources, the native
#      libraries copied beside it from the NuGet layout runtimes/linux-x64/native/;
#   7. `make dist`: SHA256SUMS checked, the tarball unpacked elsewhere (moved
#      tree), the C app rebuilt against it and the CLI run from it.
# Exits non-zero if anything fails. KEEP=1 keeps the temporary directory.
#
# Usage: tools/test_install.sh   (`make test` runs it as the "install" stage)
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
image="$root/tests/data/astronaut.png"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/faceless-install.XXXXXX")"
[ "${KEEP:-0}" = 1 ] && echo "keeping $tmp" || trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
go=go
command -v go >/dev/null || go=/usr/local/go/bin/go

failures=()
section() { printf '\n===== %s =====\n' "$*"; }
fail() { echo "FAILED: $*" >&2; failures+=("$1"); }
# run with no library search help from the environment
clean() { env -u LD_LIBRARY_PATH -u ORT_DYLIB_PATH -u DYLD_LIBRARY_PATH "$@"; }

section "make install PREFIX=$prefix"
if ! make -C "$root" --no-print-directory install PREFIX="$prefix"; then
    echo "make install failed; nothing else to test" >&2
    exit 1
fi

section "installed layout"
(
    set -e
    cd "$prefix"
    for f in bin/faceless lib/libfaceless.so.0 lib/libfaceless.so lib/libonnxruntime.so.1.31.1 \
        include/faceless.h include/faceless.hpp lib/pkgconfig/faceless.pc \
        lib/cmake/Faceless/FacelessConfig.cmake lib/cmake/Faceless/FacelessConfigVersion.cmake \
        share/faceless/bindings/go/faceless/go.mod share/faceless/bindings/csharp/Faceless.cs \
        share/faceless/bindings/csharp/Faceless.csproj \
        share/faceless/bindings/csharp/runtimes/linux-x64/native/libfaceless.so \
        share/faceless/bindings/csharp/runtimes/linux-x64/native/libonnxruntime.so.1.31.1 \
        share/licenses/faceless/LICENSE share/licenses/faceless/MODEL_CARD.md \
        share/licenses/faceless/models/mtcnn.md share/licenses/faceless/models/classifier.md \
        share/licenses/faceless/models/classifier-third-party.txt \
        share/licenses/faceless/models/classifier-fast.md \
        share/licenses/onnxruntime/LICENSE share/licenses/onnxruntime/ThirdPartyNotices.txt \
        share/doc/faceless/CHANGELOG.md; do
        [ -e "$f" ] || { echo "missing: $f" >&2; exit 1; }
    done
    [ "$(readlink lib/libfaceless.so)" = libfaceless.so.0 ]
    [[ "$(readlink lib/libfaceless.so.0)" == libfaceless.so.[0-9]*.[0-9]*.[0-9]* ]]
    dyn="$(readelf -d lib/libfaceless.so.0)"
    echo "$dyn" | grep -E 'SONAME|RUNPATH|RPATH'
    echo "$dyn" | grep -q 'Library soname: \[libfaceless.so.0\]'
    echo "$dyn" | grep -q 'Library runpath: \[\$ORIGIN\]'
    grep -q 'MIT License' share/licenses/onnxruntime/LICENSE
    grep -q 'UTKFace' share/licenses/faceless/LICENSE
    grep -q 'Timothy Esler' share/licenses/faceless/models/mtcnn.md
    grep -q 'Apache License' share/licenses/faceless/models/classifier-third-party.txt
    # nothing in the tree names the prefix: it can be moved
    if grep -rlF "$prefix" . ; then echo "files above name $prefix" >&2; exit 1; fi
    echo "layout ok"
) || fail layout

section "CLI: PREFIX/bin/faceless"
(cd "$tmp" && clean "$prefix/bin/faceless" analyze "$image" && clean "$prefix/bin/faceless" version) || fail cli

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
unset PKG_CONFIG_LIBDIR

section "C app via pkg-config"
mkdir -p "$tmp/c" && cp "$root/tests/install/c/app.c" "$tmp/c/"
(
    set -e
    cd "$tmp/c"
    echo "pkg-config --libs faceless: $(pkg-config --libs faceless)"
    # shellcheck disable=SC2046
    cc -std=c11 -Wall -Wextra -Werror app.c $(pkg-config --cflags --libs faceless) -o app
    readelf -d app | grep -E 'NEEDED.*faceless|RUNPATH|RPATH'
    clean ./app "$image"
) || fail c

section "C++ app via find_package(Faceless)"
mkdir -p "$tmp/cpp" && cp "$root"/tests/install/cpp/* "$tmp/cpp/"
(
    set -e
    cd "$tmp/cpp"
    cmake -S . -B build -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$tmp/cpp/inst" >/dev/null
    cmake --build build >/dev/null
    clean build/app "$image"
    cmake --install build >/dev/null
    readelf -d inst/bin/app | grep -E 'RUNPATH|RPATH'
    clean inst/bin/app "$image"
) || fail cpp

section "Go program in its own module"
mkdir -p "$tmp/go" && cp "$root/tests/install/go/main.go" "$tmp/go/"
(
    set -e
    cd "$tmp/go"
    export GOWORK=off GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1
    # as bindings/go/README.md says: require + replace until it is published
    "$go" mod init example.com/faceless-app 2>/dev/null
    "$go" mod edit -require=github.com/faceless-sdk/faceless/bindings/go/faceless@v0.1.0 \
        -replace=github.com/faceless-sdk/faceless/bindings/go/faceless="$prefix/share/faceless/bindings/go/faceless"
    cat go.mod
    "$go" build -o app .
    readelf -d app | grep -E 'NEEDED.*faceless|RUNPATH|RPATH'
    clean ./app "$image"
) || fail go

section "C# program (mono) with the NuGet native layout"
if command -v mcs >/dev/null && command -v mono >/dev/null; then
    mkdir -p "$tmp/csharp" && cp "$root/tests/install/csharp/App.cs" "$tmp/csharp/"
    (
        set -e
        cd "$tmp/csharp"
        cs="$prefix/share/faceless/bindings/csharp"
        mcs -nologo -warnaserror -target:library -out:Faceless.dll "$cs/Faceless.cs"
        mcs -nologo -warnaserror -out:App.exe -r:Faceless.dll App.cs
        # what `dotnet publish` does with a package's runtimes/<rid>/native/
        cp -L "$cs"/runtimes/linux-x64/native/* .
        clean mono App.exe "$image"
    ) || fail csharp
else
    fail csharp "mcs/mono not installed (tools/run_binding_tests.sh installs them)"
fi

section "make dist"
(
    set -e
    make -C "$root" --no-print-directory dist DISTDIR="$tmp/dist"
    cd "$tmp/dist"
    sha256sum -c SHA256SUMS
    mkdir -p "$tmp/unpacked"
    tar -C "$tmp/unpacked" -xzf ./*.tar.gz
    top="$(echo "$tmp"/unpacked/*)"
    (cd "$top" && sha256sum -c --quiet SHA256SUMS)
    # the unpacked (moved) tree works as installed
    cd "$tmp/c"
    # shellcheck disable=SC2046
    cc -std=c11 app.c $(PKG_CONFIG_PATH="$top/lib/pkgconfig" pkg-config --cflags --libs faceless) -o app-dist
    readelf -d app-dist | grep -E 'RUNPATH|RPATH'
    clean ./app-dist "$image"
    clean "$top/bin/faceless" analyze "$image" >/dev/null
    echo "dist ok: $(ls "$tmp/dist")"
) || fail dist

section "summary"
if [ ${#failures[@]} -ne 0 ]; then
    echo "install tests FAILED: ${failures[*]}"
    exit 1
fi
echo "install tests passed: layout, cli, c, cpp, go, csharp, dist"
