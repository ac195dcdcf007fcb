//! Finding the ONNX Runtime library and checking its version before the
//! process commits to it.

use std::ffi::CStr;
use std::path::{Path, PathBuf};

use super::ORT_TESTED_VERSION;
use crate::error::{Error, Result};

/// The oldest minor version of ONNX Runtime 1.x whose C API `ort` can drive.
const ORT_MIN_MINOR: u32 = 31;

#[cfg(target_os = "linux")]
const LIBRARY_NAMES: &[&str] = &[
    "libonnxruntime.so.1.31.1",
    "libonnxruntime.so.1",
    "libonnxruntime.so",
];
#[cfg(target_os = "macos")]
const LIBRARY_NAMES: &[&str] = &["libonnxruntime.1.31.1.dylib", "libonnxruntime.dylib"];
#[cfg(windows)]
const LIBRARY_NAMES: &[&str] = &["onnxruntime.dll"];
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
const LIBRARY_NAMES: &[&str] = &["libonnxruntime.so"];

/// Where the runtime is looked for, in order, with why each place is there.
fn candidates(explicit: Option<&Path>) -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push((p.to_path_buf(), "explicit option"));
        return out;
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push((PathBuf::from(p), "ORT_DYLIB_PATH"));
        return out;
    }
    let mut dirs = Vec::new();
    if let Some(dir) = own_library_dir() {
        dirs.push((dir, "beside the faceless library"));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        // Test binaries live in target/<profile>/deps; the runtime sits one up.
        let parent = dir.parent().map(Path::to_path_buf);
        dirs.push((dir, "beside the executable"));
        if let Some(parent) = parent {
            dirs.push((parent, "beside the executable's folder"));
        }
    }
    for (dir, why) in dirs {
        for name in LIBRARY_NAMES {
            let p = dir.join(name);
            if !out.iter().any(|(q, _)| *q == p) {
                out.push((p, why));
            }
        }
    }
    out
}

pub(super) fn locate_library(explicit: Option<&Path>) -> Result<PathBuf> {
    let tried = candidates(explicit);
    if let Some((path, _)) = tried.iter().find(|(p, _)| p.is_file()) {
        return Ok(path.clone());
    }
    let list: Vec<String> = tried
        .iter()
        .map(|(p, why)| format!("  {} ({why})", p.display()))
        .collect();
    Err(Error::Runtime(format!(
        "ONNX Runtime {ORT_TESTED_VERSION} not found; looked for:\n{}\n\
         fix: run tools/fetch_onnxruntime.sh (it places the library beside the faceless binaries), \
         set ORT_DYLIB_PATH to the library's path, or pass the path in the options",
        list.join("\n")
    )))
}

/// The directory holding the faceless shared library (or the executable it
/// is linked into), found from the address of one of our own functions.
#[cfg(unix)]
fn own_library_dir() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let addr = own_library_dir as *const libc::c_void;
    // SAFETY: dladdr only reads the loader's tables; `info` outlives the call.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string owned by the loader.
    let name = unsafe { CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes()));
    let path = path.canonicalize().unwrap_or(path);
    path.parent().map(Path::to_path_buf)
}

#[cfg(not(unix))]
fn own_library_dir() -> Option<PathBuf> {
    None
}

/// Opens the library on its own to read its version before `ort` commits the
/// process to it, so a wrong file yields a message instead of a crash later.
#[cfg(unix)]
pub(super) fn check_version(path: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::Runtime(format!(
            "ONNX Runtime path {} contains a NUL byte",
            path.display()
        ))
    })?;
    // SAFETY: dlopen/dlsym/dlclose are called with valid C strings; the
    // handle is closed on every path.
    unsafe {
        let handle = libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if handle.is_null() {
            let reason = dl_error();
            return Err(Error::Runtime(format!(
                "cannot load ONNX Runtime from {}: {reason}; fix: point ORT_DYLIB_PATH at libonnxruntime {ORT_TESTED_VERSION} \
                 or run tools/fetch_onnxruntime.sh",
                path.display()
            )));
        }
        let symbol = libc::dlsym(handle, c"OrtGetApiBase".as_ptr());
        let result = if symbol.is_null() {
            Err(Error::Runtime(format!(
                "{} is not ONNX Runtime (it has no OrtGetApiBase)",
                path.display()
            )))
        } else {
            let get_base: unsafe extern "C" fn() -> *const ort::sys::OrtApiBase =
                std::mem::transmute(symbol);
            let base = get_base();
            if base.is_null() {
                Err(Error::Runtime(format!(
                    "{} returned no API base",
                    path.display()
                )))
            } else {
                let version = CStr::from_ptr(((*base).GetVersionString)())
                    .to_string_lossy()
                    .into_owned();
                version_ok(&version).map_err(|_| {
                    Error::Runtime(format!(
                        "ONNX Runtime at {} is version {version}; Faceless needs 1.{ORT_MIN_MINOR} or newer 1.x \
                         (tested with {ORT_TESTED_VERSION}); fix: run tools/fetch_onnxruntime.sh or set ORT_DYLIB_PATH",
                        path.display()
                    ))
                })
            }
        };
        libc::dlclose(handle);
        result
    }
}

#[cfg(not(unix))]
pub(super) fn check_version(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
unsafe fn dl_error() -> String {
    let e = libc::dlerror();
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        CStr::from_ptr(e).to_string_lossy().into_owned()
    }
}

fn version_ok(version: &str) -> std::result::Result<(), ()> {
    let mut parts = version.split('.');
    let major: u32 = parts.next().and_then(|s| s.parse().ok()).ok_or(())?;
    let minor: u32 = parts.next().and_then(|s| s.parse().ok()).ok_or(())?;
    if major == 1 && minor >= ORT_MIN_MINOR {
        Ok(())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_ok("1.31.1").is_ok());
        assert!(version_ok("1.32.0").is_ok());
        assert!(version_ok("1.20.0").is_err());
        assert!(version_ok("2.0.0").is_err());
        assert!(version_ok("garbage").is_err());
    }

    #[test]
    fn explicit_missing_path_says_what_was_looked_for() {
        let err = locate_library(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/libonnxruntime.so"), "{msg}");
        assert!(msg.contains("ORT_DYLIB_PATH"), "{msg}");
    }
}
