#!/usr/bin/env bash
# `make fuzz`: builds the seed corpus (src/bin/make_corpus.rs), then runs each
# target (decode, raw_pixels, c_abi) for FUZZ_SECONDS (default 60) with
# cargo-fuzz on nightly Rust, installing what is missing; where that cannot
# be had, runs the stable mutator (src/bin/mutate.rs) instead. Reports execs
# and findings per target; inputs that fail land in fuzz/artifacts/TARGET/.
# Not part of CI.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
secs="${FUZZ_SECONDS:-60}"
targets="${FUZZ_TARGETS:-decode raw_pixels c_abi}"
tools/fetch_onnxruntime.sh >/dev/null || exit 1
export ORT_DYLIB_PATH="$root/.runtime/libonnxruntime.so.1.31.1"
cd fuzz
mkdir -p logs artifacts
cargo run --quiet --release --no-default-features --bin make_corpus -- seeds || exit 1

mode=libfuzzer
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal || mode=stable
fi
if [ "$mode" = libfuzzer ] && ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked || mode=stable
fi

summary=()
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="logs/$t.log"
    if [ "$mode" = libfuzzer ]; then
        # c_abi loads ONNX Runtime, which is not built with ASan: no sanitizer
        # there (libFuzzer still catches panics, crashes, leaks of time/RSS).
        san=address
        [ "$t" = c_abi ] && san=none
        cargo +nightly fuzz run --release -s "$san" "$t" "corpus/$t" "seeds/$t" -- \
            -max_total_time="$secs" -timeout=20 -rss_limit_mb=3072 \
            -artifact_prefix="artifacts/$t/" >"$log" 2>&1
        rc=$?
        execs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' | tail -1)
        [ -z "$execs" ] && execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
        cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
        line="$t: ${execs:-?} execs in ${secs} s (libFuzzer, $cov), exit $rc"
    else
        cargo run --quiet --release --no-default-features --bin mutate -- \
            "$t" "seeds/$t" "$secs" "artifacts/$t" >"$log" 2>&1
        rc=$?
        line="$(tail -1 "$log"), exit $rc"
    fi
    n=$(find "artifacts/$t" -type f | wc -l)
    summary+=("$line, $n finding(s) in fuzz/artifacts/$t")
    echo "${summary[-1]}"
done
echo
printf '%s\n' "${summary[@]}"
