# The two entry points the README starts with. Both fetch what they need:
# ONNX Runtime 1.31.1 from its PyPI wheel (pinned, SHA-256 checked), Rust
# crates through cargo, mono and qemu-user through apt-get for the C# tests
# and the emulated CPU without VNNI.

SAMPLE ?= tests/data/astronaut.png

PREFIX ?= /usr/local
DISTDIR ?= dist
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
DISTNAME := faceless-$(VERSION)-linux-x86_64

.PHONY: run test bench header fuzz build-release install dist

## Detect and classify every face of the sample image.
run:
	@tools/fetch_onnxruntime.sh >/dev/null
	cargo build --release --quiet
	./target/release/faceless analyze $(SAMPLE)

## Every test: Rust, Python data preparation, model reproducibility, C, C++, C#, Go, the Python package.
test:
	tools/test_all.sh

## Speed and memory against facenet-pytorch, on demand (installs torch).
bench:
	bench/run.sh

## Regenerate include/faceless.h after changing the C ABI.
header:
	FACELESS_REGEN_HEADER=1 cargo test --release --test header

## Fuzz decoding, raw pixels and the C ABI, FUZZ_SECONDS each (default 60);
## installs nightly and cargo-fuzz if missing. Not part of `make test`.
fuzz:
	fuzz/run.sh

build-release:
	@tools/fetch_onnxruntime.sh >/dev/null
	cargo build --release --lib --bins

## Install the SDK under PREFIX (default /usr/local; DESTDIR is honoured):
## bin/faceless, lib/ (libfaceless with soname links and RUNPATH $$ORIGIN,
## ONNX Runtime beside it, pkg-config and CMake packages), include/, the
## bindings' sources in share/faceless/bindings/, licences in share/licenses/.
install: build-release
	tools/install.sh "$(DESTDIR)$(PREFIX)" release

## A release tarball of the installed layout, with SHA256SUMS, in DISTDIR.
dist: build-release
	tools/dist.sh "$(DISTDIR)" "$(DISTNAME)"
