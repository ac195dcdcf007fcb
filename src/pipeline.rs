//! The whole job: detect every face, align each to the classifier's
//! template, classify all faces of an image in one batch.

use image::RgbImage;

use crate::classify::{Attributes, Classifier, ClassifierChoice};
use crate::detect::{Detector, DetectorOptions, Face, MtcnnSessions};
use crate::error::Result;
use crate::input::{self, Frame, ImageInput, PixelFormat};
use crate::models::ModelSource;
use crate::runtime::RuntimeOptions;
use crate::sessions::SessionOptions;

/// Faces per share of the classification work: each share goes to one
/// thread of the CPU budget (which runs it in small model runs, see
/// `classify/classifier.rs`), so a photo needs more than this many faces
/// before a second classifier session is made.
const CLASSIFY_BATCH: usize = 8;

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

/// One analysed image: its size, the decoded image, and its faces, best
/// first.
#[derive(Debug, Clone)]
pub struct ImageAnalysis {
    /// Width of the image analysed, in pixels.
    pub width: u32,
    /// Height of the image analysed, in pixels.
    pub height: u32,
    /// The image as analysed (RGB, EXIF orientation applied), where one was
    /// decoded or converted; `None` for packed RGB pixels
    /// ([`ImageInput::Pixels`] in [`PixelFormat::Rgb`] without padding),
    /// which are read where they lie instead of being copied.
    pub image: Option<RgbImage>,
    /// Every face found, best first; for an aligned chip, one face covering
    /// the chip.
    pub faces: Vec<FaceAnalysis>,
}

/// What a batch does with each image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchMode {
    /// Detect, align and classify every face ([`Pipeline::analyze_input`]).
    #[default]
    Analyze,
    /// Classify each image as an aligned chip
    /// ([`Pipeline::classify_aligned_input`]).
    ClassifyAligned,
}

/// Detection, alignment and classification behind one handle.
///
/// `Pipeline` is `Send + Sync`. ONNX Runtime sessions run one call at a
/// time, so the detector and the classifier each keep a pool of sessions:
/// each call checks sessions out, new ones are created when all are busy (up
/// to [`PipelineBuilder::max_sessions`]), and beyond that callers wait. Calls
/// on one pipeline from many threads therefore run in parallel.
pub struct Pipeline {
    detector: Detector,
    classifier: Classifier,
    limits: input::Limits,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("detector", &self.detector)
            .field("classifier", &self.classifier)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Configures and builds a [`Pipeline`].
#[derive(Debug, Clone, Default)]
pub struct PipelineBuilder {
    detector: DetectorOptions,
    sessions: SessionOptions,
    classifier: ClassifierChoice,
    limits: input::Limits,
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
    /// Replaces the session options (runtime, models, concurrency).
    pub fn sessions(mut self, sessions: SessionOptions) -> Self {
        self.sessions = sessions;
        self
    }
    /// How ONNX Runtime is found and configured.
    pub fn runtime(mut self, runtime: RuntimeOptions) -> Self {
        self.sessions.runtime = runtime;
        self
    }
    /// Where the models come from (embedded by default).
    pub fn models(mut self, models: ModelSource) -> Self {
        self.sessions.models = models;
        self
    }
    /// Which classifier to run (default [`ClassifierChoice::Accurate`]):
    /// `Fast` trades some accuracy for less time and memory per face.
    pub fn classifier(mut self, choice: ClassifierChoice) -> Self {
        self.classifier = choice;
        self
    }
    /// The CPU budget: most threads running models at once, whether for
    /// one image or for many ([`SessionOptions::max_sessions`]); 0, the
    /// default, means the number of CPUs. Each session set costs memory
    /// (README, "Memory"), so a smaller budget also bounds memory.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.sessions.max_sessions = n;
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
    /// creates the first sessions of the detector and the classifier.
    pub fn build(self) -> Result<Pipeline> {
        Ok(Pipeline {
            detector: Detector::new(self.detector, &self.sessions)?,
            classifier: Classifier::with_choice(&self.sessions, self.classifier)?,
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

    /// Most calls served at once (the session pools' limit).
    pub fn max_sessions(&self) -> usize {
        self.detector.max_sessions()
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
        self.detector.options()
    }

    /// The classifier's name and version, from its manifest.
    pub fn model_version(&self) -> (&str, &str) {
        self.classifier.version()
    }

    /// Which classifier this pipeline runs.
    pub fn classifier_choice(&self) -> ClassifierChoice {
        self.classifier.choice()
    }

    /// Labels of the 12 age groups, in index order.
    pub fn age_group_labels(&self) -> &[String] {
        self.classifier.spec().age_group_labels()
    }

    /// Size `(width, height)` of the aligned chips the classifier expects
    /// from [`Pipeline::align`] (the training chips' size).
    pub fn chip_size(&self) -> (u32, u32) {
        self.classifier.spec().template().1
    }

    /// Cuts the aligned chip of one detected face, as the classifier sees it.
    pub fn align(&self, img: &RgbImage, face: &Face) -> RgbImage {
        self.chip(&input::frame(img), face)
    }

    /// [`Pipeline::align`] on pixels wherever they lie.
    fn chip(&self, img: &Frame<'_>, face: &Face) -> RgbImage {
        let (template, chip) = self.classifier.spec().template();
        crate::align::align_frame(img, &face.landmarks, &template, chip)
    }

    /// Detects the faces in `img` without classifying them; best first.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>> {
        self.check_size(img.dimensions())?;
        self.detector.detect(img)
    }

    fn check_size(&self, (width, height): (u32, u32)) -> Result<()> {
        input::check_size(u64::from(width), u64::from(height), self.limits.max_pixels)
    }

    /// Detects, aligns and classifies every face in `img`; faces best first.
    pub fn analyze(&self, img: &RgbImage) -> Result<Vec<FaceAnalysis>> {
        let mut own = self.detector.own_set()?;
        self.analyze_frame_on(&mut own, &input::frame(img))
    }

    /// [`Pipeline::analyze`] on pixels wherever they lie, with a session set
    /// the caller holds: the call's own, its thread of the CPU budget until
    /// the faces are classified, so that idle sets mean idle threads.
    fn analyze_frame_on(
        &self,
        own: &mut MtcnnSessions,
        img: &Frame<'_>,
    ) -> Result<Vec<FaceAnalysis>> {
        self.check_size(img.dimensions())?;
        let pixels = u64::from(img.width()) * u64::from(img.height());
        crate::memory::for_image(pixels, || {
            let faces = self.detector.detect_with(own, img)?;
            let attributes = self.classify_faces(img, &faces)?;
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

    /// Aligns and classifies `faces` in shares of [`CLASSIFY_BATCH`]. This
    /// thread takes shares one after another; before each, every thread of
    /// the CPU budget that is idle now (its session set back in the pool)
    /// is hired to take shares too. A crowd photo alone on the pipeline thus
    /// uses every core, and so does the last photo of a batch once the other
    /// threads run out of images.
    fn classify_faces(&self, img: &Frame<'_>, faces: &[Face]) -> Result<Vec<Attributes>> {
        let groups: Vec<&[Face]> = faces.chunks(CLASSIFY_BATCH).collect();
        // A hired set is its helper's thread of the budget: it goes back to
        // the pool when the helper runs out of shares.
        let shares = crate::batch::share_hiring(
            groups.len(),
            |left| self.detector.spare_sets(left),
            |i| {
                let chips: Vec<RgbImage> = groups[i].iter().map(|f| self.chip(img, f)).collect();
                self.classifier.classify(&chips)
            },
        );
        let mut out = Vec::with_capacity(faces.len());
        for share in shares {
            out.extend(share?);
        }
        Ok(out)
    }

    /// Decodes an image (within this pipeline's limits) and analyses it;
    /// packed RGB pixels are analysed where they lie.
    pub fn analyze_input(&self, input: &ImageInput<'_>) -> Result<ImageAnalysis> {
        let mut own = self.detector.own_set()?;
        self.analyze_input_on(&mut own, input)
    }

    /// [`Pipeline::analyze_input`] with a session set the caller holds.
    fn analyze_input_on(
        &self,
        own: &mut MtcnnSessions,
        input: &ImageInput<'_>,
    ) -> Result<ImageAnalysis> {
        let pixels = input.pixels(&self.limits)?;
        let faces = self.analyze_frame_on(own, &pixels.frame())?;
        let (width, height) = pixels.dimensions();
        Ok(ImageAnalysis {
            width,
            height,
            image: pixels.into_image(),
            faces,
        })
    }

    /// Decodes an image file (EXIF orientation applied) and analyses it.
    pub fn analyze_path(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<(RgbImage, Vec<FaceAnalysis>)> {
        self.decode_and_analyze(&ImageInput::Path(path.as_ref()))
    }

    /// Decodes encoded image bytes and analyses them.
    pub fn analyze_bytes(&self, bytes: &[u8]) -> Result<(RgbImage, Vec<FaceAnalysis>)> {
        self.decode_and_analyze(&ImageInput::Encoded(bytes))
    }

    fn decode_and_analyze(&self, input: &ImageInput<'_>) -> Result<(RgbImage, Vec<FaceAnalysis>)> {
        let image = input.decode(&self.limits)?;
        let faces = self.analyze(&image)?;
        Ok((image, faces))
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
        let input = ImageInput::Pixels {
            data: pixels,
            width,
            height,
            stride,
            format,
        };
        Ok(self.analyze_input(&input)?.faces)
    }

    /// Classifies a face chip that is already aligned like the training
    /// chips (UTKFace "aligned & cropped"); no detection is run. The answer
    /// is one face whose box covers the chip, with score 1 and zero
    /// landmarks.
    pub fn classify_aligned(&self, chip: &RgbImage) -> Result<FaceAnalysis> {
        self.check_size(chip.dimensions())?;
        let attributes = self
            .classifier
            .classify(std::slice::from_ref(chip))?
            .remove(0);
        let (w, h) = (chip.width() as f32, chip.height() as f32);
        Ok(FaceAnalysis {
            id: 0,
            face: Face {
                bbox: [0.0, 0.0, w, h],
                score: 1.0,
                landmarks: [[0.0; 2]; 5],
            },
            attributes,
        })
    }

    /// Decodes an aligned chip and classifies it ([`Pipeline::classify_aligned`]).
    pub fn classify_aligned_input(&self, input: &ImageInput<'_>) -> Result<ImageAnalysis> {
        let image = input.decode(&self.limits)?;
        let face = self.classify_aligned(&image)?;
        Ok(ImageAnalysis {
            width: image.width(),
            height: image.height(),
            image: Some(image),
            faces: vec![face],
        })
    }

    /// Runs one image of a batch.
    pub fn run(&self, mode: BatchMode, input: &ImageInput<'_>) -> Result<ImageAnalysis> {
        match mode {
            BatchMode::Analyze => self.analyze_input(input),
            BatchMode::ClassifyAligned => self.classify_aligned_input(input),
        }
    }

    /// [`Pipeline::run`] with a session set the caller holds.
    fn run_on(
        &self,
        own: &mut MtcnnSessions,
        mode: BatchMode,
        input: &ImageInput<'_>,
    ) -> Result<ImageAnalysis> {
        match mode {
            BatchMode::Analyze => self.analyze_input_on(own, input),
            BatchMode::ClassifyAligned => self.classify_aligned_input(input),
        }
    }

    /// Analyses every input, up to [`Pipeline::max_sessions`] at a time in
    /// parallel, and calls `deliver(i, outcome)` on this thread for each, in
    /// input order, as soon as it and every earlier one are done (so the
    /// decoded images need not all be held at once). Each image succeeds or
    /// fails alone; a panic while analysing one is its [`crate::Error::Internal`].
    pub fn analyze_batch_each(
        &self,
        inputs: &[ImageInput<'_>],
        mode: BatchMode,
        deliver: impl FnMut(usize, Result<ImageAnalysis>),
    ) {
        crate::batch::run(
            inputs.len(),
            self.max_sessions(),
            || self.detector.try_own_set(),
            || self.detector.own_set(),
            |own, i| self.run_on(own, mode, &inputs[i]),
            deliver,
        );
    }

    /// [`Pipeline::analyze_batch_each`], collected: one outcome per input,
    /// in input order.
    pub fn analyze_batch(
        &self,
        inputs: &[ImageInput<'_>],
        mode: BatchMode,
    ) -> Vec<Result<ImageAnalysis>> {
        let mut out = Vec::with_capacity(inputs.len());
        self.analyze_batch_each(inputs, mode, |_, r| out.push(r));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// A panic while a session set is checked out (a bug in model code)
    /// must not use up the pool: after more panics than `max_sessions` in
    /// each pool, an image is still analysed instead of waiting forever.
    #[test]
    fn panics_inside_checked_out_sessions_do_not_exhaust_the_pools() {
        let pipeline = Pipeline::builder().max_sessions(2).build().unwrap();
        for _ in 0..5 {
            let r = catch_unwind(AssertUnwindSafe(|| {
                pipeline
                    .detector
                    .pool()
                    .with(|_| -> Result<()> { panic!("bug in detection") })
            }));
            assert!(r.is_err());
            let r = catch_unwind(AssertUnwindSafe(|| {
                pipeline
                    .classifier
                    .pool()
                    .with(|_| -> Result<()> { panic!("bug in classification") })
            }));
            assert!(r.is_err());
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/astronaut.png");
        let (_, faces) = pipeline.analyze_path(path).unwrap();
        assert_eq!(faces.len(), 1);
    }
}
