//! Finding the ONNX Runtime library and checking its version before the
//! process commits to it.
//!
//! The search order (the README's "ONNX Runtime" section says the same):
//! 1. the explicit option (a file, or a folder holding the library): used or
//!    refused, never passed over, because the caller asked for it;
//! 2. `ORT_DYLIB_PATH` (a file or a folder);
//! 3. the folder of the faceless library itself;
//! 4. the folder of the executable, then its parent;
//! 5. the system loader's own search by soname (`LD_LIBRARY_PATH`, the
//!    RUNPATH of the executable, the ldconfig cache, the default folders).
//!
//! From step 2 on, a candidate that exists but cannot be used (wrong
//! version, not ONNX Runtime, not loadable) is noted and the search goes on:
//! a stale environment variable must not hide a good library further down.
//! The notes are printed once as a warning when a later candidate is used,
//! and kept in [`RuntimeInfo`](super::RuntimeInfo).

use std::ffi::{CStr, CString};
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

/// How users are told to fix a missing runtime: what to install and where,
/// in words that need nothing from this repository.
const FIX: &str = "fix: install ONNX Runtime 1.31.1 for this machine and either put \
libonnxruntime beside libfaceless (the Faceless SDK's lib/ folder ships it there), set \
ORT_DYLIB_PATH to the library file or its folder, or add its folder to LD_LIBRARY_PATH; \
the library is in the onnxruntime 1.31.1 wheel on PyPI (onnxruntime/capi/) and in \
Microsoft's onnxruntime-linux-x64-1.31.1.tgz release (lib/)";

/// A runtime library that passed the checks.
#[derive(Debug, Clone)]
pub(super) struct Located {
    /// Absolute path of the library file.
    pub path: PathBuf,
    /// Its version string, e.g. "1.31.1".
    pub version: String,
    /// Which step of the search found it, e.g. "ORT_DYLIB_PATH".
    pub found_by: &'static str,
    /// Candidates passed over on the way, each with why.
    pub passed_over: Vec<String>,
}

/// The library files to try for a path that is a file or a folder.
fn files_at(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        LIBRARY_NAMES.iter().map(|n| path.join(n)).collect()
    } else {
        vec![path.to_path_buf()]
    }
}

/// The folders searched in steps 3 and 4, each with why it is searched.
fn folders() -> Vec<(PathBuf, &'static str)> {
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
    dirs
}

pub(super) fn locate_library(explicit: Option<&Path>) -> Result<Located> {
    if let Some(p) = explicit {
        let mut reasons = Vec::new();
        for file in files_at(p) {
            match check(&file) {
                Ok(version) => return Ok(located(file, version, "explicit option", Vec::new())),
                Err(reason) => reasons.push(format!("  {}: {reason}", file.display())),
            }
        }
        return Err(Error::Runtime(format!(
            "ONNX Runtime not usable at the explicitly given path {}:\n{}\n{FIX}",
            p.display(),
            reasons.join("\n")
        )));
    }

    let mut passed_over = Vec::new();
    let mut looked = Vec::new();
    let mut tried: Vec<PathBuf> = Vec::new();
    let mut try_file = |file: PathBuf,
                        why: &'static str,
                        passed_over: &mut Vec<String>,
                        looked: &mut Vec<String>|
     -> Option<Located> {
        if tried.contains(&file) {
            return None;
        }
        tried.push(file.clone());
        if !file.exists() {
            looked.push(format!("  {} ({why}): absent", file.display()));
            return None;
        }
        match check(&file) {
            Ok(version) => Some(located(file, version, why, passed_over.clone())),
            Err(reason) => {
                let line = format!("{} ({why}): {reason}", file.display());
                looked.push(format!("  {line}"));
                passed_over.push(line);
                None
            }
        }
    };

    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.exists() {
            let line = format!("{} (ORT_DYLIB_PATH): no such file or folder", p.display());
            looked.push(format!("  {line}"));
            passed_over.push(line);
        }
        for file in files_at(&p).into_iter().filter(|_| p.exists()) {
            if let Some(found) = try_file(file, "ORT_DYLIB_PATH", &mut passed_over, &mut looked) {
                return Ok(found);
            }
        }
    }
    for (dir, why) in folders() {
        for name in LIBRARY_NAMES {
            if let Some(found) = try_file(dir.join(name), why, &mut passed_over, &mut looked) {
                return Ok(found);
            }
        }
    }
    for name in LIBRARY_NAMES {
        match system_loader_path(name) {
            Ok(file) => {
                let why = "system loader (LD_LIBRARY_PATH, ldconfig)";
                if let Some(found) = try_file(file, why, &mut passed_over, &mut looked) {
                    return Ok(found);
                }
            }
            Err(reason) => looked.push(format!("  {name} (system loader): {reason}")),
        }
    }
    Err(Error::Runtime(format!(
        "ONNX Runtime {ORT_TESTED_VERSION} not found; looked for:\n{}\n{FIX}",
        looked.join("\n")
    )))
}

fn located(
    path: PathBuf,
    version: String,
    found_by: &'static str,
    passed_over: Vec<String>,
) -> Located {
    let path = path.canonicalize().unwrap_or(path);
    Located {
        path,
        version,
        found_by,
        passed_over,
    }
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
/// Returns the version, or why the file cannot be used.
#[cfg(unix)]
fn check(path: &Path) -> std::result::Result<String, String> {
    use std::os::unix::ffi::OsStrExt;
    if !path.exists() {
        return Err("absent".into());
    }
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| "path has a NUL byte")?;
    // SAFETY: dlopen/dlsym/dlclose are called with valid C strings; the
    // handle is closed on every path.
    unsafe {
        let handle = libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if handle.is_null() {
            return Err(format!("cannot be loaded: {}", dl_error()));
        }
        let result = api_version(handle);
        libc::dlclose(handle);
        let version = result?;
        version_ok(&version).map_err(|_| {
            format!(
                "version {version}; Faceless needs 1.{ORT_MIN_MINOR} or a newer 1.x \
                 (tested with {ORT_TESTED_VERSION})"
            )
        })?;
        Ok(version)
    }
}

#[cfg(not(unix))]
fn check(path: &Path) -> std::result::Result<String, String> {
    if path.exists() {
        Ok(ORT_TESTED_VERSION.into())
    } else {
        Err("absent".into())
    }
}

/// The version string of the ONNX Runtime behind an open handle.
#[cfg(unix)]
unsafe fn api_version(handle: *mut libc::c_void) -> std::result::Result<String, String> {
    let symbol = libc::dlsym(handle, c"OrtGetApiBase".as_ptr());
    if symbol.is_null() {
        return Err("not ONNX Runtime (no OrtGetApiBase)".into());
    }
    let get_base: unsafe extern "C" fn() -> *const ort::sys::OrtApiBase =
        std::mem::transmute(symbol);
    let base = get_base();
    if base.is_null() {
        return Err("ONNX Runtime returned no API base".into());
    }
    Ok(CStr::from_ptr(((*base).GetVersionString)())
        .to_string_lossy()
        .into_owned())
}

/// Where the system loader finds `name` (a bare soname): it searches
/// `LD_LIBRARY_PATH`, RUNPATHs and the ldconfig cache; the file it picked is
/// read back from the address of the runtime's entry point.
#[cfg(unix)]
fn system_loader_path(name: &str) -> std::result::Result<PathBuf, String> {
    use std::os::unix::ffi::OsStrExt;
    let c_name = CString::new(name).map_err(|_| "name has a NUL byte")?;
    // SAFETY: as in `check`; `info` outlives the dladdr call and the name it
    // points to is copied before dlclose.
    unsafe {
        let handle = libc::dlopen(c_name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        if handle.is_null() {
            return Err(format!("not found ({})", dl_error()));
        }
        let symbol = libc::dlsym(handle, c"OrtGetApiBase".as_ptr());
        let mut info: libc::Dl_info = std::mem::zeroed();
        let path = if symbol.is_null() {
            Err("found, but not ONNX Runtime (no OrtGetApiBase)".to_string())
        } else if libc::dladdr(symbol, &mut info) == 0 || info.dli_fname.is_null() {
            Err("found, but the loader does not say where".to_string())
        } else {
            let bytes = CStr::from_ptr(info.dli_fname).to_bytes();
            Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
        };
        libc::dlclose(handle);
        path
    }
}

#[cfg(not(unix))]
fn system_loader_path(_name: &str) -> std::result::Result<PathBuf, String> {
    Err("not searched on this platform".into())
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
    fn explicit_missing_path_says_what_was_looked_for_and_the_fix() {
        let err = locate_library(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/nonexistent/libonnxruntime.so: absent"),
            "{msg}"
        );
        assert!(msg.contains("ORT_DYLIB_PATH"), "{msg}");
        assert!(msg.contains("PyPI"), "{msg}");
        assert!(
            !msg.contains("tools/"),
            "the fix must not name repository scripts: {msg}"
        );
    }

    #[test]
    fn a_folder_is_searched_for_the_library_names() {
        let dir = std::env::temp_dir().join(format!("faceless-ort-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("libonnxruntime.so.1"), b"not a library").unwrap();
        let err = locate_library(Some(&dir)).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.contains("libonnxruntime.so.1: cannot be loaded"),
            "{err}"
        );
        assert!(err.contains("libonnxruntime.so.1.31.1: absent"), "{err}");
    }
}
