//! Faceless: find every face in a photo and estimate its age group, gender
//! and ethnicity, each with a calibrated probability.
//!
//! The pipeline is MTCNN face detection ([`Detector`]), alignment of each
//! face to the classifier's canonical landmark template, and a multi-output
//! CNN trained on UTKFace. Models run on ONNX Runtime, loaded at run time
//! (see [`runtime`]); the models themselves are compiled into the library.
//!
//! ```no_run
//! let detector = faceless::Detector::builder().min_face_size(24.0).build()?;
//! let image = faceless::input::decode_path("group.jpg", faceless::input::DEFAULT_MAX_PIXELS)?;
//! for face in detector.detect(&image)? {
//!     println!("{:?} {:.3}", face.bbox, face.score);
//! }
//! # Ok::<(), faceless::Error>(())
//! ```
//!
//! Ethnicity and gender labels describe how the training data was annotated,
//! not people; every answer carries its probability so callers can abstain.

#![warn(missing_docs)]

pub mod align;
pub mod classify;
pub mod detect;
mod error;
pub mod ffi;
mod inference;
pub mod input;
mod memory;
mod models;
mod pipeline;
pub mod runtime;
mod session_pool;

pub use classify::{Attributes, Prediction};
pub use detect::{Detector, DetectorBuilder, DetectorOptions, Face};
pub use error::{Error, ErrorKind, Result};
pub use models::ModelSource;
pub use pipeline::{FaceAnalysis, Pipeline, PipelineBuilder};

/// The crate version, also reported by the C ABI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Session pools grow to this many sets when the caller sets no limit.
pub(crate) fn session_limit(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism().map_or(4, |n| n.get())
    }
}
