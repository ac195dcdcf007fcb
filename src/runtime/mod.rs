//! Finding, loading and configuring ONNX Runtime, by concern: locating and
//! checking the library (`library.rs`), the process-wide environment
//! (`environment.rs`), the execution providers (`providers.rs`), and here
//! the options and session creation that use them.
//!
//! Faceless links ONNX Runtime dynamically so one SDK build works with the
//! runtime the application already ships (CPU, CUDA, ...).

mod environment;
mod library;
mod providers;

use std::path::PathBuf;

use ort::environment::Environment;
use ort::session::Session;

use crate::error::{Error, Result};

pub use environment::{environment, runtime_info, RuntimeInfo};
pub use providers::{available_providers, ExecutionProvider};

/// The ONNX Runtime version Faceless is built and tested against.
pub const ORT_TESTED_VERSION: &str = "1.31.1";

/// CPU time this process has spent inside ONNX Runtime's model runs so far,
/// on the threads that called them, summed: the part of a call's cost that
/// is the networks themselves (`make bench` reports the rest as Faceless's
/// overhead). With `intra_threads` above 1, ONNX Runtime's own worker
/// threads are not counted.
pub fn network_time() -> std::time::Duration {
    crate::inference::network_time()
}

/// How sessions are created.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Explicit path of the ONNX Runtime shared library, or of a folder
    /// holding it; used or refused, never passed over. When `None`:
    /// `ORT_DYLIB_PATH` (file or folder), the folder of the faceless
    /// library, the folder of the executable and its parent, then the
    /// system loader's search by soname (`LD_LIBRARY_PATH`, ldconfig). A
    /// candidate that is present but unusable is reported and passed over.
    pub library_path: Option<PathBuf>,
    /// Threads ONNX Runtime may use inside one model run; 0 (the default)
    /// means 1. Parallelism comes from running images, pyramid levels, crop
    /// batches and face batches at once, up to [`crate::SessionOptions::max_sessions`]
    /// (the CPU budget): our networks are too small for intra-op threads to
    /// pay, and more than 1 here multiplies the threads in use by the
    /// budget. Threads never spin while waiting for work.
    pub intra_threads: usize,
    /// Execution providers in order of preference; empty means CPU only.
    /// CPU stays the fallback for operators a provider cannot run.
    pub execution_providers: Vec<ExecutionProvider>,
}

/// Whether ONNX Runtime's fast kernels for int8 layers (u8 activations
/// times s8 weights) lose precision on this CPU: x86 without VNNI adds pairs
/// of products in 16 bits, saturating, which moved the int8 classifier's
/// answers (on an emulated Haswell: a gender probability by 0.08, the age
/// group on 3 of 20 faces). There the sessions run those layers as u8 × u8,
/// exact like VNNI's, at some cost in speed; with VNNI the option would only
/// slow them down (the same answers in twice the classifier's time here).
fn quantised_products_saturate() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !(std::arch::is_x86_feature_detected!("avx512vnni")
            || std::arch::is_x86_feature_detected!("avxvnni"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
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
    // P-Net sees a new input shape at every band of every image size, so
    // memory patterns (planned for one shape) are off. The CPU arena keeps
    // the largest tensors a session has seen; every input we feed is
    // bounded whatever the image (P-Net bands, R-Net/O-Net/classifier
    // batches), so each arena stops growing at a fixed size, and it saves
    // the page faults of fresh allocations (measured without it: 12 % more
    // CPU per image, and more RSS from the C allocator's fragmentation).
    // Spinning threads burn a core each while idle, which a caller running
    // several sessions at once (our pools) pays for in throughput.
    let mut builder = Session::builder(env)
        .map_err(|e| fail(&e))?
        .with_memory_pattern(false)
        .map_err(|e| fail(&e))?
        .with_intra_threads(options.intra_threads.max(1))
        .map_err(|e| fail(&e))?
        .with_intra_op_spinning(false)
        .map_err(|e| fail(&e))?
        .with_inter_op_spinning(false)
        .map_err(|e| fail(&e))?;
    if quantised_products_saturate() {
        builder = builder.with_precise_qmm().map_err(|e| fail(&e))?;
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
