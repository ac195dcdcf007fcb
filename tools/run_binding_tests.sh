#!/usr/bin/env bash
# Build libfaceless (debug, or FACELESS_PROFILE=release), stage the SDK (header, library, pkg-config file,
# CMake package) under build/sdk, then build and run, in order:
#   1. the C tests (tests/c, via find_package(Faceless)) and the C example
#      (examples/c, via pkg-config);
#   2. the C++ wrapper's GoogleTest tests (bindings/cpp/tests);
#   3. the C# binding's tests with mono (bindings/csharp);
#   4. the Go binding's tests (bindings/go/faceless, cgo via pkg-config).
# Exits non-zero if anything fails. ONNX Runtime comes from
# tools/fetch_onnxruntime.sh and is found beside the staged libfaceless.
# Mono is installed with apt-get when mcs/mono are missing (CI runs as root).
#
# Usage: tools/run_binding_tests.sh [c|cpp|csharp|go ...]   (default: all)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build="$root/build/bindings"
sdk="$root/build/sdk"
data="$root/tests/data"
profile="${FACELESS_PROFILE:-debug}"
case "$profile" in debug) cargo_flags=() ;; release) cargo_flags=(--release) ;;
    *) echo "FACELESS_PROFILE must be debug or release, not $profile" >&2; exit 2 ;; esac
langs=("$@")
[ ${#langs[@]} -eq 0 ] && langs=(c cpp csharp go)
want() { local l; for l in "${langs[@]}"; do [ "$l" = "$1" ] && return 0; done; return 1; }

section() { printf '\n===== %s =====\n' "$*"; }
failures=()

section "ONNX Runtime"
tools/fetch_onnxruntime.sh

section "cargo build ($profile)"
cargo build --lib ${cargo_flags[@]+"${cargo_flags[@]}"}
cmake/stage_sdk.sh "$sdk" "$profile"
# only faceless_* may be exported
nm -D --defined-only "$sdk/lib/libfaceless.so.0" | awk '{print $3}' | sort > "$sdk/exports.txt"
if grep -v '^faceless_' "$sdk/exports.txt"; then
    echo "libfaceless exports symbols without the faceless_ prefix (above)" >&2
    failures+=(exports)
fi
echo "exported: $(tr '\n' ' ' < "$sdk/exports.txt")"
export PKG_CONFIG_PATH="$sdk/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$sdk/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export FACELESS_TEST_DATA="$data"
mkdir -p "$build"

if want c; then
    section "C tests (CMake: find_package(Faceless))"
    if cmake -S tests/c -B "$build/c" -DCMAKE_PREFIX_PATH="$sdk" -DCMAKE_BUILD_TYPE=Debug >/dev/null \
        && cmake --build "$build/c" \
        && "$build/c/test_faceless" "$data"; then :; else failures+=(c); fi

    section "C example (pkg-config)"
    # shellcheck disable=SC2046
    if cc -std=c11 -Wall -Wextra -Werror examples/c/analyze.c $(pkg-config --cflags --libs faceless) \
        -o "$build/analyze" && "$build/analyze" "$data/astronaut.png"; then :; else failures+=(c-example); fi
fi

if want cpp; then
    section "C++ tests (GoogleTest)"
    if cmake -S bindings/cpp/tests -B "$build/cpp" -DCMAKE_PREFIX_PATH="$sdk" -DCMAKE_BUILD_TYPE=Debug >/dev/null \
        && cmake --build "$build/cpp" \
        && "$build/cpp/faceless_cpp_tests"; then :; else failures+=(cpp); fi
fi

if want csharp; then
    section "C# tests (mono)"
    if ! command -v mcs >/dev/null || ! command -v mono >/dev/null; then
        echo "installing mono (mono-mcs, mono-runtime)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq mono-mcs mono-runtime >/dev/null
    fi
    if mcs -nologo -warnaserror -out:"$build/FacelessTests.exe" \
        bindings/csharp/Faceless.cs bindings/csharp/tests/FacelessTests.cs \
        && mono "$build/FacelessTests.exe" "$data"; then :; else failures+=(csharp); fi
fi

if want go; then
    section "Go tests (cgo)"
    go=go
    command -v go >/dev/null || go=/usr/local/go/bin/go
    if (cd bindings/go/faceless && CGO_ENABLED=1 "$go" vet ./... && CGO_ENABLED=1 "$go" test -count=1 -v ./...); then :
    else failures+=(go); fi
fi

section "summary"
if [ ${#failures[@]} -ne 0 ]; then
    echo "FAILED: ${failures[*]}"
    exit 1
fi
echo "all binding tests passed (${langs[*]})"
