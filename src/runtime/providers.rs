//! Execution providers: one table of what Faceless knows about each, and
//! the set the loaded runtime offers, probed once per process.

use std::sync::OnceLock;

use ort::ep::{self, ExecutionProvider as _};

use super::RuntimeOptions;
use crate::error::{Error, Result};

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

/// Everything known about one provider.
struct Entry {
    provider: ExecutionProvider,
    /// Accepted short names, lower case (the first is the canonical one).
    names: &'static [&'static str],
    /// ONNX Runtime's name.
    ort_name: &'static str,
    dispatch: fn() -> ep::ExecutionProviderDispatch,
    available: fn() -> ort::Result<bool>,
}

static TABLE: [Entry; 5] = [
    Entry {
        provider: ExecutionProvider::Cpu,
        names: &["cpu"],
        ort_name: "CPUExecutionProvider",
        dispatch: || ep::CPU::default().build(),
        available: ep::CPU::is_available,
    },
    Entry {
        provider: ExecutionProvider::Cuda,
        names: &["cuda"],
        ort_name: "CUDAExecutionProvider",
        dispatch: || ep::CUDA::default().build(),
        available: ep::CUDA::is_available,
    },
    Entry {
        provider: ExecutionProvider::TensorRt,
        names: &["tensorrt", "trt"],
        ort_name: "TensorrtExecutionProvider",
        dispatch: || ep::TensorRT::default().build(),
        available: ep::TensorRT::is_available,
    },
    Entry {
        provider: ExecutionProvider::CoreMl,
        names: &["coreml"],
        ort_name: "CoreMLExecutionProvider",
        dispatch: || ep::CoreML::default().build(),
        available: ep::CoreML::is_available,
    },
    Entry {
        provider: ExecutionProvider::DirectMl,
        names: &["directml", "dml"],
        ort_name: "DmlExecutionProvider",
        dispatch: || ep::DirectML::default().build(),
        available: ep::DirectML::is_available,
    },
];

impl ExecutionProvider {
    fn entry(self) -> &'static Entry {
        TABLE
            .iter()
            .find(|e| e.provider == self)
            .expect("every provider has a table entry")
    }

    /// Parses a provider name, case-insensitively: `cpu`, `cuda`, `tensorrt`,
    /// `coreml`, `directml` (ONNX Runtime's own names such as
    /// `CUDAExecutionProvider` are accepted too).
    pub fn from_name(name: &str) -> Result<Self> {
        let lower = name.trim().to_ascii_lowercase();
        let short = lower.strip_suffix("executionprovider").unwrap_or(&lower);
        TABLE
            .iter()
            .find(|e| e.names.contains(&short))
            .map(|e| e.provider)
            .ok_or_else(|| {
                let known: Vec<&str> = TABLE.iter().map(|e| e.names[0]).collect();
                Error::InvalidArgument(format!(
                    "unknown execution provider {name:?}; expected one of {}",
                    known.join(", ")
                ))
            })
    }

    /// ONNX Runtime's name for the provider.
    pub fn ort_name(self) -> &'static str {
        self.entry().ort_name
    }

    pub(super) fn dispatch(self) -> ep::ExecutionProviderDispatch {
        (self.entry().dispatch)().error_on_failure()
    }
}

/// The execution providers the loaded runtime was built with (loading the
/// runtime with default options first if no pipeline has yet). Probed once:
/// the library cannot change while the process holds it.
pub fn available_providers() -> Result<Vec<String>> {
    static AVAILABLE: OnceLock<Vec<String>> = OnceLock::new();
    if let Some(found) = AVAILABLE.get() {
        return Ok(found.clone());
    }
    super::environment(&RuntimeOptions::default())?;
    let mut found = Vec::new();
    for e in &TABLE {
        let present = (e.available)()
            .map_err(|err| Error::Runtime(format!("cannot list execution providers: {err}")))?;
        if present {
            found.push(e.ort_name.to_string());
        }
    }
    Ok(AVAILABLE.get_or_init(|| found).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            ExecutionProvider::from_name("dml").unwrap(),
            ExecutionProvider::DirectMl
        );
        let err = ExecutionProvider::from_name("quantum").unwrap_err();
        assert!(
            err.to_string()
                .contains("cpu, cuda, tensorrt, coreml, directml"),
            "{err}"
        );
        for e in &TABLE {
            assert_eq!(e.provider.entry().ort_name, e.ort_name);
        }
    }
}
