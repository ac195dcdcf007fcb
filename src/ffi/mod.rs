//! The C ABI: `libfaceless` as C, C++, C# and Go see it.
//!
//! Everything here is marshalling: checking pointers and sizes, converting C
//! strings and structs into the Rust API's types, copying answers into
//! caller-owned results, and turning errors and panics into status codes.
//! There is no pipeline logic in this module.
//!
//! `include/faceless.h` is generated from these files by cbindgen (see
//! `cbindgen.toml` and `tests/header.rs`); the doc comments here are the
//! header's documentation.
//!
//! Conventions (after zstd and libgit2):
//! - every entry point returns an `int32_t` status (`FACELESS_OK` = 0) and
//!   writes its answer through an out-pointer;
//! - every failure stores a message retrievable with `faceless_last_error`
//!   on the failing thread;
//! - no panic crosses the boundary: a caught panic is `FACELESS_ERR_INTERNAL`.

#![allow(clippy::missing_safety_doc)]

mod analyze;
mod options;
mod result;
mod status;

pub use analyze::*;
pub use options::*;
pub use result::*;
pub use status::*;

/// The version of the C ABI described by this header. It changes only when
/// an existing function or struct layout changes incompatibly; additions
/// (new functions, fields appended behind `struct_size`) keep it.
pub const FACELESS_ABI_VERSION: u32 = 1;

/// The library version as a NUL-terminated string, e.g. `"0.1.0"`. Static;
/// never free it.
#[no_mangle]
pub extern "C" fn faceless_version() -> *const std::ffi::c_char {
    // Nothing here can panic; the guard keeps the rule "every entry point".
    std::panic::catch_unwind(|| concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast())
        .unwrap_or(c"".as_ptr())
}

/// The ABI version the library implements; compare with
/// `FACELESS_ABI_VERSION` to detect a header/library mismatch.
#[no_mangle]
pub extern "C" fn faceless_abi_version() -> u32 {
    std::panic::catch_unwind(|| FACELESS_ABI_VERSION).unwrap_or(FACELESS_ABI_VERSION)
}
