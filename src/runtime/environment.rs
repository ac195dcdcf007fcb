//! The process-wide ONNX Runtime environment. A process can hold only one
//! runtime library and one environment, so both live in one slot: the first
//! successful load decides, later pipelines share it, and a later request
//! for a different library is refused rather than silently ignored.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use super::library::{check_version, locate_library};
use super::RuntimeOptions;
use crate::error::{Error, Result};

static ENVIRONMENT: Mutex<Option<(Environment, PathBuf)>> = Mutex::new(None);

/// Loads ONNX Runtime (once per process) and returns the shared environment
/// and the path it was loaded from. An explicit `library_path` naming
/// another file than the one already loaded is [`Error::Runtime`].
pub fn environment(options: &RuntimeOptions) -> Result<(Environment, PathBuf)> {
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((env, path)) = slot.as_ref() {
        if let Some(wanted) = options.library_path.as_deref() {
            if !same_file(wanted, path) {
                return Err(Error::Runtime(format!(
                    "ONNX Runtime is already loaded from {} in this process, which cannot load \
                     a second one from {}; fix: use the same library path for every pipeline, \
                     or none after the first",
                    path.display(),
                    wanted.display()
                )));
            }
        }
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

/// Whether two paths name one file (links and relative paths resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
