//! Finding, loading and configuring ONNX Runtime.
//!
//! Faceless links ONNX Runtime dynamically so one SDK build works with the
//! runtime the application already ships (CPU, CUDA, ...). A process can hold
//! only one runtime library and one ONNX Runtime environment, so both live in
//! a process-wide slot: the first successful load wins and later pipelines
//! share it.

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;

use crate::error::{Error, Result};

/// The ONNX Runtime version Faceless is built and tested against.
pub const ORT_TESTED_VERSION: &str = "1.31.1";
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

/// An execution provider ONNX Runtime can run the models on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExecutionProvider {
    /// The default CPU provider, always present.
    Cpu,
    /// NVIDIA CUDA.
    Cuda,
    /// NVIDIA TensorRT.
    TensorRt,
    /// Apple CoreML.
    CoreMl,
    /// Microsoft DirectML.
    DirectMl,
}

impl ExecutionProvider {
    /// Parses a provider name, case-insensitively: `cpu`, `cuda`, `tensorrt`,
    /// `coreml`, `directml` (ONNX Runtime's own names such as
    /// `CUDAExecutionProvider` are accepted too).
    pub fn from_name(name: &str) -> Result<Self> {
        let lower = name.trim().to_ascii_lowercase();
        let short = lower.strip_suffix("executionprovider").unwrap_or(&lower);
        Ok(match short {
            "cpu" => Self::Cpu,
            "cuda" => Self::Cuda,
            "tensorrt" | "trt" => Self::TensorRt,
            "coreml" => Self::CoreMl,
            "directml" | "dml" => Self::DirectMl,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unknown execution provider {name:?}; expected one of cpu, cuda, tensorrt, coreml, directml"
                )))
            }
        })
    }

    /// ONNX Runtime's name for the provider.
    pub fn ort_name(self) -> &'static str {
        match self {
            Self::Cpu => "CPUExecutionProvider",
            Self::Cuda => "CUDAExecutionProvider",
            Self::TensorRt => "TensorrtExecutionProvider",
            Self::CoreMl => "CoreMLExecutionProvider",
            Self::DirectMl => "DmlExecutionProvider",
        }
    }

    fn dispatch(self) -> ort::ep::ExecutionProviderDispatch {
        use ort::ep;
        match self {
            Self::Cpu => ep::CPU::default().build(),
            Self::Cuda => ep::CUDA::default().build(),
            Self::TensorRt => ep::TensorRT::default().build(),
            Self::CoreMl => ep::CoreML::default().build(),
            Self::DirectMl => ep::DirectML::default().build(),
        }
        .error_on_failure()
    }
}

/// How sessions are created.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Explicit path of the ONNX Runtime shared library. When `None`, the
    /// `ORT_DYLIB_PATH` environment variable is used, then the directory of
    /// the faceless library, then the directory of the executable.
    pub library_path: Option<PathBuf>,
    /// Threads ONNX Runtime may use inside one model run; 0 lets it choose.
    pub intra_threads: usize,
    /// Execution providers in order of preference; empty means CPU only.
    /// CPU stays the fallback for operators a provider cannot run.
    pub execution_providers: Vec<ExecutionProvider>,
}

static ENVIRONMENT: Mutex<Option<(Environment, PathBuf)>> = Mutex::new(None);

/// Loads ONNX Runtime (once per process) and returns the shared environment
/// and the path it was loaded from.
pub fn environment(options: &RuntimeOptions) -> Result<(Environment, PathBuf)> {
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((env, path)) = slot.as_ref() {
        return Ok((env.clone(), path.clone()));
    }
    let path = locate_library(options.library_path.as_deref())?;
    check_version(&path)?;
    let env = ort::init_from(&path)
        .map_err(|e| {
            Error::Runtime(format!(
                "cannot load ONNX Runtime from {}: {e}",
                path.display()
            ))
        })?
        .with_name("faceless")
        .build()
        .map_err(|e| Error::Runtime(format!("cannot create the ONNX Runtime environment: {e}")))?;
    *slot = Some((env.clone(), path.clone()));
    Ok((env, path))
}

/// Builds a session for an in-memory ONNX model with the given options.
pub(crate) fn session(
    env: &Environment,
    options: &RuntimeOptions,
    model: &str,
    bytes: &[u8],
) -> Result<Session> {
    let fail =
        |e: &dyn std::fmt::Display| Error::model(model, format!("cannot create session: {e}"));
    // P-Net sees a new input shape at every pyramid level of every image
    // size. ONNX Runtime's memory patterns and its growing CPU arena assume
    // fixed shapes and kept ~1.7 GB for one 77-face photo (bench/); without
    // them memory follows the current image.
    let mut builder = Session::builder(env)
        .map_err(|e| fail(&e))?
        .with_memory_pattern(false)
        .map_err(|e| fail(&e))?;
    if options.intra_threads > 0 {
        builder = builder
            .with_intra_threads(options.intra_threads)
            .map_err(|e| fail(&e))?;
    }
    let wanted: Vec<_> = options
        .execution_providers
        .iter()
        .copied()
        .filter(|p| *p != ExecutionProvider::Cpu)
        .collect();
    if wanted.is_empty() {
        builder = builder
            .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(true).build()])
            .map_err(|e| fail(&e))?;
    } else {
        let available = available_providers()?;
        for provider in &wanted {
            if !available.iter().any(|a| a == provider.ort_name()) {
                return Err(Error::ExecutionProviderUnavailable {
                    name: provider.ort_name().to_string(),
                    available: available.join(", "),
                });
            }
        }
        let dispatches: Vec<_> = wanted.iter().map(|p| p.dispatch()).collect();
        builder = builder.with_execution_providers(dispatches).map_err(|e| {
            Error::ExecutionProviderUnavailable {
                name: wanted
                    .iter()
                    .map(|p| p.ort_name())
                    .collect::<Vec<_>>()
                    .join(", "),
                available: e.to_string(),
            }
        })?;
    }
    builder.commit_from_memory(bytes).map_err(|e| fail(&e))
}

/// The execution providers the loaded runtime was built with (loading the
/// runtime with default options first if no pipeline has yet).
pub fn available_providers() -> Result<Vec<String>> {
    use ort::ep::ExecutionProvider as _;
    environment(&RuntimeOptions::default())?;
    let candidates = [
        ExecutionProvider::Cpu,
        ExecutionProvider::Cuda,
        ExecutionProvider::TensorRt,
        ExecutionProvider::CoreMl,
        ExecutionProvider::DirectMl,
    ];
    let mut out = Vec::new();
    for c in candidates {
        let present = match c {
            ExecutionProvider::Cpu => ort::ep::CPU::is_available(),
            ExecutionProvider::Cuda => ort::ep::CUDA::is_available(),
            ExecutionProvider::TensorRt => ort::ep::TensorRT::is_available(),
            ExecutionProvider::CoreMl => ort::ep::CoreML::is_available(),
            ExecutionProvider::DirectMl => ort::ep::DirectML::is_available(),
        }
        .map_err(|e| Error::Runtime(format!("cannot list execution providers: {e}")))?;
        if present {
            out.push(c.ort_name().to_string());
        }
    }
    Ok(out)
}

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

fn locate_library(explicit: Option<&Path>) -> Result<PathBuf> {
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
fn check_version(path: &Path) -> Result<()> {
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
fn check_version(_path: &Path) -> Result<()> {
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
    fn provider_names() {
        assert_eq!(
            ExecutionProvider::from_name("CUDA").unwrap(),
            ExecutionProvider::Cuda
        );
        assert_eq!(
            ExecutionProvider::from_name("CUDAExecutionProvider").unwrap(),
            ExecutionProvider::Cuda
        );
        assert!(ExecutionProvider::from_name("quantum").is_err());
    }

    #[test]
    fn explicit_missing_path_says_what_was_looked_for() {
        let err = locate_library(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/libonnxruntime.so"), "{msg}");
        assert!(msg.contains("ORT_DYLIB_PATH"), "{msg}");
    }
}
