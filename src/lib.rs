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
mod batch;
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
mod sessions;

pub use classify::{Attributes, Classifier, Prediction};
pub use detect::{Detector, DetectorBuilder, DetectorOptions, Face};
pub use error::{Error, ErrorKind, Result};
pub use input::ImageInput;
pub use models::ModelSource;
pub use pipeline::{BatchMode, FaceAnalysis, ImageAnalysis, Pipeline, PipelineBuilder};
pub use sessions::SessionOptions;

/// The crate version, also reported by the C ABI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
