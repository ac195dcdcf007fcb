//! Link settings for the C shared library (the cdylib only; the rlib,
//! staticlib and executables are unaffected).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/ffi/exports.map");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        // A versioned soname: applications record libfaceless.so.0 and keep
        // working across ABI-compatible releases.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libfaceless.so.0");
        // RUNPATH $ORIGIN: libraries beside libfaceless (ONNX Runtime in an
        // installed PREFIX/lib) are found without LD_LIBRARY_PATH.
        println!("cargo:rustc-cdylib-link-arg=-Wl,--enable-new-dtags");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,$ORIGIN");
        // Export only faceless_*: rustc's own script already hides every
        // non-`#[no_mangle]` symbol; this one states the rule for the SDK
        // (checked by tools/run_binding_tests.sh with nm -D).
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/src/ffi/exports.map");
    }
}
