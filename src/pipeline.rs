//! The whole job: detect every face, align each to the classifier's
//! template, classify all faces of an image in one batch.

use std::sync::Arc;

use image::RgbImage;
use ort::session::Session;

use crate::classify::manifest::Manifest;
use crate::classify::{Attributes, ClassifierSpec};
use crate::detect::{DetectorOptions, Face, MtcnnSessions};
use crate::error::Result;
use crate::input::{self, PixelFormat};
use crate::models::ModelSource;
use crate::runtime::{self, RuntimeOptions};
use crate::session_pool::Pool;

/// One face with its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceAnalysis {
    /// 0..n-1, in order of detection score (best first).
    pub id: usize,
    /// Where the face is.
    pub face: Face,
    /// What the classifier says about it.
    pub attributes: Attributes,
}

/// Every session one call needs: the detector's three and the classifier.
struct Engines {
    mtcnn: MtcnnSessions,
    classifier: Session,
}

/// Detection, alignment and classification behind one handle.
///
/// `Pipeline` is `Send + Sync`. ONNX Runtime sessions run one call at a
/// time, so the pipeline keeps a pool of session sets: each call checks one
/// set out, a new set is created when all are busy (up to
/// [`PipelineBuilder::max_sessions`]), and beyond that callers wait. Calls on
/// one pipeline from many threads therefore run in parallel.
pub struct Pipeline {
    detector: DetectorOptions,
    spec: Arc<ClassifierSpec>,
    pool: Pool<Engines>,
    limits: input::Limits,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("detector", &self.detector)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Configures and builds a [`Pipeline`].
#[derive(Debug, Clone)]
pub struct PipelineBuilder {
    detector: DetectorOptions,
    runtime: RuntimeOptions,
    models: ModelSource,
    max_sessions: usize,
    limits: input::Limits,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        PipelineBuilder {
            detector: DetectorOptions::default(),
            runtime: RuntimeOptions::default(),
            models: ModelSource::Embedded,
            max_sessions: 0,
            limits: input::Limits::default(),
        }
    }
}

impl PipelineBuilder {
    /// Replaces the detector options.
    pub fn detector_options(mut self, options: DetectorOptions) -> Self {
        self.detector = options;
        self
    }
    /// Smallest face to look for, in pixels (default 20).
    pub fn min_face_size(mut self, pixels: f32) -> Self {
        self.detector.min_face_size = pixels;
        self
    }
    /// How ONNX Runtime is found and configured.
    pub fn runtime(mut self, runtime: RuntimeOptions) -> Self {
        self.runtime = runtime;
        self
    }
    /// Where the models come from (embedded by default).
    pub fn models(mut self, models: ModelSource) -> Self {
        self.models = models;
        self
    }
    /// Most calls served at once (0, the default: the number of CPUs).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }
    /// Largest image accepted, as width × height (0: the default,
    /// [`input::DEFAULT_MAX_PIXELS`], 40 megapixels).
    pub fn max_pixels(mut self, n: u64) -> Self {
        self.limits.max_pixels = if n == 0 { input::DEFAULT_MAX_PIXELS } else { n };
        self
    }
    /// Largest encoded input (file or buffer) in bytes (0: the default, 3
    /// bytes per allowed pixel plus 1 MiB; see [`input::Limits::max_bytes`]).
    pub fn max_input_bytes(mut self, n: u64) -> Self {
        self.limits.max_bytes = n;
        self
    }
    /// Most declared pixels per encoded byte above 4 megapixels (0: the
    /// default, [`input::DEFAULT_MAX_PIXELS_PER_BYTE`]; `u64::MAX`: off).
    pub fn max_pixels_per_byte(mut self, n: u64) -> Self {
        self.limits.max_pixels_per_byte = if n == 0 {
            input::DEFAULT_MAX_PIXELS_PER_BYTE
        } else {
            n
        };
        self
    }

    /// Loads the runtime, checks the models against their manifest and
    /// creates the first set of sessions.
    pub fn build(self) -> Result<Pipeline> {
        self.detector.validate()?;
        let mtcnn = Arc::new(self.models.load_mtcnn()?);
        let (onnx, json) = self.models.load_classifier()?;
        let manifest = Manifest::parse(&json)?;
        manifest.check_onnx(&onnx)?;
        let spec = Arc::new(ClassifierSpec::new(manifest));
        // Borrowed when embedded: no copy of the model for the pool's sessions.
        let onnx = Arc::new(onnx);
        let (env, _) = runtime::environment(&self.runtime)?;
        let rt = self.runtime.clone();
        let spec2 = spec.clone();
        let make = move || -> Result<Engines> {
            let classifier = runtime::session(&env, &rt, "faceless-attributes", &onnx)?;
            spec2.check_session(&classifier)?;
            Ok(Engines {
                mtcnn: MtcnnSessions::create(&env, &rt, &mtcnn)?,
                classifier,
            })
        };
        let first = make()?;
        Ok(Pipeline {
            detector: self.detector,
            spec,
            pool: Pool::new(
                first,
                crate::session_limit(self.max_sessions),
                Box::new(make),
            ),
            limits: self.limits,
        })
    }
}

impl Pipeline {
    /// A builder with default options and the embedded models.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// A pipeline with every default.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// Most calls served at once (the session pool's limit).
    pub fn max_sessions(&self) -> usize {
        self.pool.limit()
    }

    /// The image size limit (width × height) this pipeline enforces.
    pub fn max_pixels(&self) -> u64 {
        self.limits.max_pixels
    }

    /// Every input limit this pipeline enforces.
    pub fn limits(&self) -> &input::Limits {
        &self.limits
    }

    /// Changes the byte and density limits (0 means the default for each;
    /// see [`PipelineBuilder::max_input_bytes`] and
    /// [`PipelineBuilder::max_pixels_per_byte`]).
    pub fn set_input_limits(&mut self, max_input_bytes: u64, max_pixels_per_byte: u64) {
        self.limits.max_bytes = max_input_bytes;
        self.limits.max_pixels_per_byte = if max_pixels_per_byte == 0 {
            input::DEFAULT_MAX_PIXELS_PER_BYTE
        } else {
            max_pixels_per_byte
        };
    }

    /// The detector options in force.
    pub fn detector_options(&self) -> &DetectorOptions {
        &self.detector
    }

    /// The classifier's name and version, from its manifest.
    pub fn model_version(&self) -> (&str, &str) {
        (&self.spec.manifest.name, &self.spec.manifest.version)
    }

    /// Labels of the 12 age groups, in index order.
    pub fn age_group_labels(&self) -> &[String] {
        self.spec.age_group_labels()
    }

    /// Size `(width, height)` of the aligned chips the classifier expects
    /// from [`Pipeline::align`] (the training chips' size).
    pub fn chip_size(&self) -> (u32, u32) {
        self.spec.template().1
    }

    /// Cuts the aligned chip of one detected face, as the classifier sees it.
    pub fn align(&self, img: &RgbImage, face: &Face) -> RgbImage {
        let (template, chip) = self.spec.template();
        crate::align::align(img, &face.landmarks, &template, chip)
    }

    /// Detects the faces in `img` without classifying them; best first.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>> {
        input::check_size(
            u64::from(img.width()),
            u64::from(img.height()),
            self.limits.max_pixels,
        )?;
        let pixels = u64::from(img.width()) * u64::from(img.height());
        crate::memory::for_image(pixels, || {
            self.pool.with(|e| e.mtcnn.detect(img, &self.detector))
        })
    }

    /// Detects, aligns and classifies every face in `img`; faces best first.
    pub fn analyze(&self, img: &RgbImage) -> Result<Vec<FaceAnalysis>> {
        input::check_size(
            u64::from(img.width()),
            u64::from(img.height()),
            self.limits.max_pixels,
        )?;
        let pixels = u64::from(img.width()) * u64::from(img.height());
        crate::memory::for_image(pixels, || self.analyze_pooled(img))
    }

    fn analyze_pooled(&self, img: &RgbImage) -> Result<Vec<FaceAnalysis>> {
        self.pool.with(|e| {
            let faces = e.mtcnn.detect(img, &self.detector)?;
            let chips: Vec<RgbImage> = faces.iter().map(|f| self.align(img, f)).collect();
            let attributes = self.spec.classify(&mut e.classifier, &chips)?;
            Ok(faces
                .into_iter()
                .zip(attributes)
                .enumerate()
                .map(|(id, (face, attributes))| FaceAnalysis {
                    id,
                    face,
                    attributes,
                })
                .collect())
        })
    }

    /// Decodes an image file (EXIF orientation applied) and analyses it.
    pub fn analyze_path(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<(RgbImage, Vec<FaceAnalysis>)> {
        let img = input::decode_path_with(path, &self.limits)?;
        let faces = self.analyze(&img)?;
        Ok((img, faces))
    }

    /// Decodes encoded image bytes and analyses them.
    pub fn analyze_bytes(&self, bytes: &[u8]) -> Result<(RgbImage, Vec<FaceAnalysis>)> {
        let img = input::decode_bytes_with(bytes, &self.limits)?;
        let faces = self.analyze(&img)?;
        Ok((img, faces))
    }

    /// Analyses a raw pixel buffer (see [`input::from_raw`]).
    pub fn analyze_raw(
        &self,
        pixels: &[u8],
        width: u32,
        height: u32,
        stride: usize,
        format: PixelFormat,
    ) -> Result<Vec<FaceAnalysis>> {
        let img = input::from_raw(
            pixels,
            width,
            height,
            stride,
            format,
            self.limits.max_pixels,
        )?;
        self.analyze(&img)
    }

    /// Classifies a face chip that is already aligned like the training
    /// chips (UTKFace "aligned & cropped"); no detection is run.
    pub fn classify_aligned(&self, chip: &RgbImage) -> Result<Attributes> {
        input::check_size(
            u64::from(chip.width()),
            u64::from(chip.height()),
            self.limits.max_pixels,
        )?;
        let mut out = self.pool.with(|e| {
            self.spec
                .classify(&mut e.classifier, std::slice::from_ref(chip))
        })?;
        Ok(out.remove(0))
    }
}
