//! The process-wide ONNX Runtime environment. A process can hold only one
//! runtime library and one environment, so both live in one slot: the first
//! successful load decides, later pipelines share it, and a later request
//! for a different library is refused rather than silently ignored.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use super::library::{locate_library, Located};
use super::RuntimeOptions;
use crate::error::{Error, Result};

static ENVIRONMENT: Mutex<Option<(Environment, Located)>> = Mutex::new(None);

/// Which ONNX Runtime this process loaded, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// Absolute path of the library file.
    pub path: PathBuf,
    /// Its version, e.g. `"1.31.1"`.
    pub version: String,
    /// The step of the search that found it: `"explicit option"`,
    /// `"ORT_DYLIB_PATH"`, `"beside the faceless library"`, `"beside the
    /// executable"`, `"beside the executable's folder"` or `"system loader
    /// (LD_LIBRARY_PATH, ldconfig)"`.
    pub found_by: String,
    /// Candidates that were present but unusable, passed over on the way,
    /// each with why (a stale `ORT_DYLIB_PATH`, a wrong version, ...).
    pub passed_over: Vec<String>,
}

/// Loads ONNX Runtime if this process has not yet (as the first pipeline
/// would) and says which library is in use.
pub fn runtime_info(options: &RuntimeOptions) -> Result<RuntimeInfo> {
    environment(options)?;
    let slot = ENVIRONMENT.lock().unwrap_or_else(|p| p.into_inner());
    let (_, l) = slot.as_ref().expect("loaded by environment()");
    Ok(RuntimeInfo {
        path: l.path.clone(),
        version: l.version.clone(),
        found_by: l.found_by.to_string(),
        passed_over: l.passed_over.clone(),
    })
}

/// Loads ONNX Runtime (once per process) and returns the shared environment
/// and the path it was loaded from. An explicit `library_path` naming
/// another file than the one already loaded is [`Error::Runtime`].
pub fn environment(options: &RuntimeOptions) -> Result<(Environment, PathBuf)> {
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((env, located)) = slot.as_ref() {
        let path = &located.path;
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
    let located = locate_library(options.library_path.as_deref())?;
    let path = located.path.clone();
    if !located.passed_over.is_empty() {
        // A stale setting must not fail silently, nor stop the search: say
        // once what was passed over and what is used instead.
        eprintln!(
            "faceless: warning: passed over {}; using ONNX Runtime {} at {} ({})",
            located.passed_over.join("; "),
            located.version,
            path.display(),
            located.found_by
        );
    }
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
    *slot = Some((env.clone(), located));
    Ok((env, path))
}

/// Whether two paths name one file (links and relative paths resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
