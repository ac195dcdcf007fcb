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
//! [`Pipeline`] and [`Detector`] carry examples that run in `cargo test
//! --doc`. Images are [`image::RgbImage`]s; the `image` crate is re-exported
//! as [`faceless::image`](image) so callers use the same version.
//!
//! To depend on the crate (not yet on crates.io), in `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! faceless = { git = "https://github.com/faceless-sdk/faceless", tag = "v0.1.0" }
//! # or, from a checkout: faceless = { path = "../faceless" }
//! ```
//!
//! and have ONNX Runtime 1.31 where [`runtime`] looks for it (beside the
//! executable, `ORT_DYLIB_PATH`, or `LD_LIBRARY_PATH`; see
//! [`RuntimeOptions::library_path`](runtime::RuntimeOptions::library_path)).
//!
//! Ethnicity and gender labels describe how the training data was annotated,
//! not people; every answer carries its probability so callers can abstain.

#![warn(missing_docs)]

pub mod align;
mod batch;
pub mod classify;
pub mod detect;
mod error;
/// The C ABI (`include/faceless.h`); not part of the Rust API.
#[doc(hidden)]
pub mod ffi;
mod inference;
pub mod input;
mod memory;
mod models;
mod pipeline;
pub mod runtime;
mod session_pool;
mod sessions;

pub use classify::{Attributes, Classifier, ClassifierChoice, Prediction};
pub use detect::{Detector, DetectorBuilder, DetectorOptions, Face};
pub use error::{Error, ErrorKind, Result};
pub use input::ImageInput;
pub use models::ModelSource;
pub use pipeline::{BatchMode, FaceAnalysis, ImageAnalysis, PipelineBuilder};
pub use sessions::SessionOptions;

/// The `image` crate Faceless is built with: [`image::RgbImage`] is the
/// image type of every call.
pub use image;

/// # Example
///
/// Analyse the committed sample (run by `cargo test --doc`; ONNX Runtime is
/// found as described in [`runtime`]):
///
/// ```
/// let pipeline = faceless::Pipeline::builder().min_face_size(20.0).build()?;
/// let (image, faces) = pipeline.analyze_path("tests/data/astronaut.png")?;
/// assert_eq!((image.width(), image.height()), (512, 512));
/// assert_eq!(faces.len(), 1);
/// for f in &faces {
///     let a = &f.attributes;
///     println!(
///         "face {} at {:?}: {} ({:.2}), {:.0} years, age group {} ({:.2}), {} ({:.2})",
///         f.id, f.face.bbox, a.gender.label, a.gender.prob, a.age_years,
///         a.age_group.label, a.age_group.prob, a.ethnicity.label, a.ethnicity.prob,
///     );
///     assert!((a.gender.probs.iter().sum::<f32>() - 1.0).abs() < 1e-3);
/// }
/// # Ok::<(), faceless::Error>(())
/// ```
#[doc(inline)]
pub use pipeline::Pipeline;

/// The crate version, also reported by the C ABI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
