//! `include/faceless.h` must be exactly what cbindgen generates from
//! `src/ffi/` with `cbindgen.toml`. Regenerate with `tools/gen_header.sh`
//! (which runs this test with `FACELESS_REGEN_HEADER=1`).

use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen failed on src/ffi");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

#[test]
fn header_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("include/faceless.h");
    let fresh = generate();
    if std::env::var_os("FACELESS_REGEN_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write include/faceless.h");
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()));
        panic!(
            "include/faceless.h is stale (first difference at line {}).\n\
             fix: tools/gen_header.sh   (or: FACELESS_REGEN_HEADER=1 cargo test --test header)",
            line + 1
        );
    }
}

#[test]
fn header_exports_only_prefixed_names() {
    let header = generate();
    for line in header.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("#define ") {
            let name = rest.split_whitespace().next().unwrap_or("");
            assert!(name.starts_with("FACELESS_"), "unprefixed macro {name}");
        }
    }
    assert!(header.contains("#define FACELESS_ABI_VERSION 1"));
    assert!(header.contains("#define FACELESS_OK 0"));
}
