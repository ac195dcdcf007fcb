//! The crate's error type: one enum for everything the pipeline can refuse.
//!
//! Each variant maps to one stable status code of the C ABI (see
//! [`Error::kind`]), so callers in any language can branch on the kind of
//! failure and still print the full message.

use std::path::PathBuf;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in Faceless.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument is out of its documented range (zero size, short stride, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },

    /// The bytes are not an image in a supported format, or are truncated.
    #[error("cannot decode image: {0}")]
    Decode(String),

    /// The image is larger than the configured pixel limit.
    #[error("image of {width}x{height} pixels exceeds the limit of {max_pixels} pixels")]
    ImageTooLarge {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// The configured limit (width × height).
        max_pixels: u64,
    },

    /// The encoded input (a file or a buffer) is longer than the byte limit.
    #[error("encoded input of {bytes} bytes exceeds the limit of {max_bytes} bytes")]
    InputTooLarge {
        /// Its length (for files, as far as it was read: at least one more
        /// byte than the limit).
        bytes: u64,
        /// The limit in force.
        max_bytes: u64,
    },

    /// The header declares far more pixels than the encoded data could hold
    /// in any photograph: a decompression bomb ("small file, huge work").
    #[error(
        "image declares {width}x{height} pixels in only {bytes} encoded bytes \
         (more than {max_pixels_per_byte} pixels per byte): refused as a decompression bomb"
    )]
    ImplausibleSize {
        /// Declared width.
        width: u64,
        /// Declared height.
        height: u64,
        /// Encoded length.
        bytes: u64,
        /// The configured density limit.
        max_pixels_per_byte: u64,
    },

    /// ONNX Runtime could not be found or loaded, or has the wrong version.
    #[error("{0}")]
    Runtime(String),

    /// An execution provider was requested that the loaded runtime lacks.
    #[error("execution provider {name:?} is not available in the loaded ONNX Runtime (available: {available})")]
    ExecutionProviderUnavailable {
        /// The name as requested.
        name: String,
        /// The providers the runtime reports, comma separated.
        available: String,
    },

    /// A model file or manifest is missing, malformed or does not fit.
    #[error("model {model}: {reason}")]
    Model {
        /// Which model (e.g. `pnet`, `faceless-attributes`).
        model: String,
        /// What is wrong with it.
        reason: String,
    },

    /// ONNX Runtime failed while running a model.
    #[error("inference failed in {model}: {reason}")]
    Inference {
        /// Which model.
        model: &'static str,
        /// ONNX Runtime's message.
        reason: String,
    },

    /// A bug in Faceless: a panic caught while analysing one image of a
    /// batch (the other images are unaffected).
    #[error("internal error (panic): {0}")]
    Internal(String),
}

/// The kind of an [`Error`], stable across releases (the C status codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorKind {
    /// See [`Error::InvalidArgument`].
    InvalidArgument = 2,
    /// See [`Error::Io`].
    Io = 3,
    /// See [`Error::Decode`].
    Decode = 4,
    /// See [`Error::ImageTooLarge`], [`Error::InputTooLarge`] and
    /// [`Error::ImplausibleSize`]: the input is over a configured limit.
    ImageTooLarge = 5,
    /// See [`Error::Runtime`].
    Runtime = 6,
    /// See [`Error::ExecutionProviderUnavailable`].
    ExecutionProviderUnavailable = 7,
    /// See [`Error::Model`].
    Model = 8,
    /// See [`Error::Inference`].
    Inference = 9,
    /// See [`Error::Internal`].
    Internal = 10,
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Io { .. } => ErrorKind::Io,
            Error::Decode(_) => ErrorKind::Decode,
            Error::ImageTooLarge { .. }
            | Error::InputTooLarge { .. }
            | Error::ImplausibleSize { .. } => ErrorKind::ImageTooLarge,
            Error::Runtime(_) => ErrorKind::Runtime,
            Error::ExecutionProviderUnavailable { .. } => ErrorKind::ExecutionProviderUnavailable,
            Error::Model { .. } => ErrorKind::Model,
            Error::Inference { .. } => ErrorKind::Inference,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// An [`Error::Decode`] with a decoder's message on one line: some end
    /// theirs with a newline, and the message follows a file name in the CLI
    /// and comes back through the C ABI.
    pub(crate) fn decode(message: impl std::fmt::Display) -> Self {
        let message = message.to_string();
        Error::Decode(message.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    pub(crate) fn model(model: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Model {
            model: model.into(),
            reason: reason.to_string(),
        }
    }

    /// An [`Error::Internal`] from a caught panic's payload.
    pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let msg = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic payload".to_string()
        };
        Error::Internal(msg)
    }

    pub(crate) fn inference(model: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Inference {
            model,
            reason: reason.to_string(),
        }
    }
}
