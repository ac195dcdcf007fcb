//! Face detection with MTCNN (Zhang et al. 2016), matching facenet-pytorch's
//! `detect_face` number for number with the same pretrained weights.
//!
//! Three cascaded networks: P-Net (`pnet.rs`) proposes candidates over an image
//! pyramid, R-Net (`rnet.rs`) rescores and refines them, O-Net (`onet.rs`) gives the
//! final score, box and five landmarks. Each stage has its own threshold.

mod boxes;
mod onet;
pub(crate) mod pnet;
mod refine;
mod resample;
mod rnet;

use image::RgbImage;
use ort::session::Session;

use crate::error::{Error, Result};
use crate::input::{frame, Frame, ImageInput, Limits};
use crate::models::{ModelSet, ModelSource};
use crate::runtime::{self, RuntimeOptions};
use crate::session_pool::{Checkout, Pool};
use crate::sessions::SessionOptions;

/// One detected face, in original image pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// `[x1, y1, x2, y2]`: left, top, right, bottom; clipped to the image.
    pub bbox: [f32; 4],
    /// O-Net's face probability, 0 to 1.
    pub score: f32,
    /// Left eye, right eye, nose, left mouth corner, right mouth corner, as
    /// `[x, y]` (left and right as seen in the picture).
    pub landmarks: [[f32; 2]; 5],
}

/// The detector's tunables; the defaults are facenet-pytorch's.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorOptions {
    /// Smallest face side looked for, in pixels (default 20). Smaller values
    /// find smaller faces at the cost of a larger pyramid.
    pub min_face_size: f32,
    /// Ratio between successive pyramid levels (default 0.709 ≈ 1/√2).
    pub scale_factor: f64,
    /// Score thresholds of P-Net, R-Net and O-Net (default 0.6, 0.7, 0.7).
    pub thresholds: [f32; 3],
    /// IoU above which P-Net candidates of one scale are merged (0.5).
    pub nms_pnet_scale: f32,
    /// IoU above which P-Net candidates across scales are merged (0.7).
    pub nms_pnet_cross: f32,
    /// IoU above which R-Net candidates are merged (0.7).
    pub nms_rnet: f32,
    /// Overlap (over the smaller box) above which O-Net faces are merged (0.7).
    pub nms_onet: f32,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        DetectorOptions {
            min_face_size: 20.0,
            scale_factor: 0.709,
            thresholds: [0.6, 0.7, 0.7],
            nms_pnet_scale: 0.5,
            nms_pnet_cross: 0.7,
            nms_rnet: 0.7,
            nms_onet: 0.7,
        }
    }
}

impl DetectorOptions {
    /// Checks every field is in range.
    pub fn validate(&self) -> Result<()> {
        let bad =
            |what: &str, v: f32| Error::InvalidArgument(format!("{what} = {v} is out of range"));
        if !(self.min_face_size.is_finite() && self.min_face_size >= 4.0) {
            return Err(bad("min_face_size (at least 4 pixels)", self.min_face_size));
        }
        if !(self.scale_factor > 0.05 && self.scale_factor < 0.99) {
            return Err(bad(
                "scale_factor (between 0.05 and 0.99)",
                self.scale_factor as f32,
            ));
        }
        for (i, t) in self.thresholds.iter().enumerate() {
            if !(0.0..=1.0).contains(t) {
                return Err(bad(&format!("thresholds[{i}] (0 to 1)"), *t));
            }
        }
        for (name, v) in [
            ("nms_pnet_scale", self.nms_pnet_scale),
            ("nms_pnet_cross", self.nms_pnet_cross),
            ("nms_rnet", self.nms_rnet),
            ("nms_onet", self.nms_onet),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(bad(name, v));
            }
        }
        Ok(())
    }
}

/// Images from this many pixels up share their detection (P-Net's
/// pyramid, R-Net's and O-Net's crops) among idle session sets: below it a
/// thread's start costs more than it saves.
const SHARE_PIXELS: u64 = 250_000;

/// The three MTCNN sessions one call needs.
pub(crate) struct MtcnnSessions {
    pub pnet: Session,
    pub rnet: Session,
    pub onet: Session,
}

impl MtcnnSessions {
    pub(crate) fn create(
        env: &ort::environment::Environment,
        rt: &RuntimeOptions,
        models: &ModelSet,
    ) -> Result<Self> {
        Ok(MtcnnSessions {
            pnet: runtime::session(env, rt, "pnet", &models.pnet)?,
            rnet: runtime::session(env, rt, "rnet", &models.rnet)?,
            onet: runtime::session(env, rt, "onet", &models.onet)?,
        })
    }

    /// Runs the cascade on one image; faces best first. Before each P-Net
    /// run and each later stage, `hire(n)` gives up to `n` idle session sets
    /// of the CPU budget, one thread each, that share the rest of the work
    /// (P-Net's pyramid, R-Net's and O-Net's crops): a thread that runs out
    /// of images of its own joins an image still in progress. `workers` is
    /// the most sets that may take part, this call's own included.
    pub(crate) fn detect<'p>(
        &mut self,
        hire: impl Fn(usize) -> Vec<Checkout<'p, MtcnnSessions>>,
        workers: usize,
        img: &Frame<'_>,
        opts: &DetectorOptions,
    ) -> Result<Vec<Face>> {
        let hire = |n: usize| -> Vec<Set<'_, 'p>> { hire(n).into_iter().map(Set::Hired).collect() };
        let (proposals, mut sets) = pnet::propose(Set::Own(self), &hire, workers, img, opts)?;
        if proposals.is_empty() {
            return Ok(Vec::new());
        }
        sets.extend(hire(workers.saturating_sub(sets.len())));
        let mut rnets: Vec<&mut Session> = sets.iter_mut().map(|s| &mut s.rnet).collect();
        let refined = rnet::refine(&mut rnets, img, &proposals, opts)?;
        if refined.is_empty() {
            return Ok(Vec::new());
        }
        sets.extend(hire(workers.saturating_sub(sets.len())));
        let mut onets: Vec<&mut Session> = sets.iter_mut().map(|s| &mut s.onet).collect();
        let mut faces = onet::finish(&mut onets, img, &refined, opts)?;
        let (w, h) = (img.width() as f32, img.height() as f32);
        for f in &mut faces {
            clip(f, w, h);
        }
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(faces)
    }
}

/// A session set at work on one call: the call's own, or an idle one it
/// hired (back to the pool when dropped).
pub(crate) enum Set<'a, 'p> {
    Own(&'a mut MtcnnSessions),
    Hired(Checkout<'p, MtcnnSessions>),
}

impl std::ops::Deref for Set<'_, '_> {
    type Target = MtcnnSessions;
    fn deref(&self) -> &MtcnnSessions {
        match self {
            Set::Own(s) => s,
            Set::Hired(s) => s,
        }
    }
}

impl std::ops::DerefMut for Set<'_, '_> {
    fn deref_mut(&mut self) -> &mut MtcnnSessions {
        match self {
            Set::Own(s) => s,
            Set::Hired(s) => s,
        }
    }
}

/// Keeps a face inside `[0, w] × [0, h]`: boxes may be regressed past the
/// border, and callers index pixels with them.
fn clip(face: &mut Face, w: f32, h: f32) {
    let [x1, y1, x2, y2] = face.bbox;
    face.bbox = [
        x1.clamp(0.0, w),
        y1.clamp(0.0, h),
        x2.clamp(0.0, w),
        y2.clamp(0.0, h),
    ];
    for p in &mut face.landmarks {
        p[0] = p[0].clamp(0.0, w);
        p[1] = p[1].clamp(0.0, h);
    }
}

/// A face detector, safe to share between threads (`Sync`): concurrent calls
/// each use their own set of sessions from a pool.
///
/// # Example
///
/// Detect the face of the committed sample, decoded here with the
/// re-exported `image` crate (run by `cargo test --doc`):
///
/// ```
/// let detector = faceless::Detector::builder().min_face_size(20.0).build()?;
/// let image = faceless::image::open("tests/data/astronaut.png")?.to_rgb8();
/// let faces = detector.detect(&image)?;
/// assert_eq!(faces.len(), 1);
/// let [x1, y1, x2, y2] = faces[0].bbox;
/// assert!(x1 < x2 && y1 < y2 && faces[0].score > 0.9);
/// println!("box {:?}, score {:.3}, landmarks {:?}", faces[0].bbox, faces[0].score, faces[0].landmarks);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Detector {
    options: DetectorOptions,
    pool: Pool<MtcnnSessions>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Configures and builds a [`Detector`].
#[derive(Debug, Clone, Default)]
pub struct DetectorBuilder {
    options: DetectorOptions,
    sessions: SessionOptions,
}

impl DetectorBuilder {
    /// Replaces all detector options.
    pub fn options(mut self, options: DetectorOptions) -> Self {
        self.options = options;
        self
    }
    /// Smallest face to look for, in pixels.
    pub fn min_face_size(mut self, pixels: f32) -> Self {
        self.options.min_face_size = pixels;
        self
    }
    /// P-Net, R-Net and O-Net score thresholds.
    pub fn thresholds(mut self, thresholds: [f32; 3]) -> Self {
        self.options.thresholds = thresholds;
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
    /// The CPU budget: most threads running models at once
    /// ([`SessionOptions::max_sessions`]); 0 (the default) means the number
    /// of CPUs.
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.sessions.max_sessions = n;
        self
    }
    /// Loads the runtime and the models.
    pub fn build(self) -> Result<Detector> {
        Detector::new(self.options, &self.sessions)
    }
}

impl Detector {
    /// A builder with facenet-pytorch's defaults and the embedded models.
    pub fn builder() -> DetectorBuilder {
        DetectorBuilder::default()
    }

    pub(crate) fn new(options: DetectorOptions, sessions: &SessionOptions) -> Result<Detector> {
        options.validate()?;
        let models = std::sync::Arc::new(sessions.models.load_mtcnn()?);
        let pool = sessions.pool(move |env, rt| MtcnnSessions::create(env, rt, &models))?;
        Ok(Detector { options, pool })
    }

    /// The options this detector runs with.
    pub fn options(&self) -> &DetectorOptions {
        &self.options
    }

    /// Most calls served at once (the session pool's limit).
    pub fn max_sessions(&self) -> usize {
        self.pool.limit()
    }

    /// Finds every face in `img`, best score first. An image without faces
    /// gives an empty list, not an error.
    ///
    /// One session set is this call's own (waiting for one if need be);
    /// spare sets, up to the pool's limit, are borrowed for the whole
    /// cascade when the image is large enough to share out. A call alone on
    /// the pipeline thus uses the whole CPU budget, and calls in parallel (a
    /// batch) use one set each: threads never exceed the budget.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>> {
        let mut own = self.pool.checkout()?;
        self.detect_frame_on(&mut own, &frame(img))
    }

    /// [`Detector::detect`] on pixels wherever they lie, with a session set
    /// the caller holds.
    fn detect_frame_on(&self, own: &mut MtcnnSessions, img: &Frame<'_>) -> Result<Vec<Face>> {
        let pixels = u64::from(img.width()) * u64::from(img.height());
        crate::memory::for_image(pixels, || self.detect_with(own, img))
    }

    /// A session set of this call's own: also the token for one thread of
    /// the CPU budget, which [`crate::Pipeline::analyze`] holds until the
    /// image's faces are classified.
    pub(crate) fn own_set(&self) -> Result<Checkout<'_, MtcnnSessions>> {
        self.pool.checkout()
    }

    /// [`Detector::own_set`] if one is free now; `None` (never a wait) when
    /// every set is out.
    pub(crate) fn try_own_set(&self) -> Option<Result<Checkout<'_, MtcnnSessions>>> {
        self.pool.try_checkout()
    }

    /// Up to `n` idle session sets (never waiting): as many threads of the
    /// CPU budget as are free now. A set that cannot be made now is no
    /// reason to fail: the caller's own thread does the work.
    pub(crate) fn spare_sets(&self, n: usize) -> Vec<Checkout<'_, MtcnnSessions>> {
        let mut spare = Vec::new();
        while spare.len() < n {
            match self.pool.try_checkout() {
                Some(Ok(set)) => spare.push(set),
                Some(Err(_)) | None => break,
            }
        }
        spare
    }

    /// Detection with the caller's own set, sharing each stage with the
    /// spare ones when the image is large enough.
    pub(crate) fn detect_with(
        &self,
        own: &mut MtcnnSessions,
        img: &Frame<'_>,
    ) -> Result<Vec<Face>> {
        let pixels = u64::from(img.width()) * u64::from(img.height());
        let workers = if pixels >= SHARE_PIXELS {
            self.pool.limit()
        } else {
            1
        };
        let hire = |n: usize| self.spare_sets(n.min(workers - 1));
        own.detect(hire, workers, img, &self.options)
    }

    /// Decodes (within `limits`) and detects every input, up to
    /// [`Detector::max_sessions`] at a time in parallel, and calls
    /// `deliver(i, outcome)` on this thread for each, in input order, as soon
    /// as it and every earlier one are done; an outcome is the image's width
    /// and height, and its faces. Each image succeeds or fails alone; a
    /// panic while detecting one is its [`crate::Error::Internal`].
    pub fn detect_batch_each(
        &self,
        inputs: &[ImageInput<'_>],
        limits: &Limits,
        deliver: impl FnMut(usize, Result<((u32, u32), Vec<Face>)>),
    ) {
        crate::batch::run(
            inputs.len(),
            self.max_sessions(),
            || self.try_own_set(),
            || self.own_set(),
            |own, i| {
                let pixels = inputs[i].pixels(limits)?;
                let faces = self.detect_frame_on(own, &pixels.frame())?;
                Ok((pixels.dimensions(), faces))
            },
            deliver,
        );
    }

    #[cfg(test)]
    pub(crate) fn pool(&self) -> &Pool<MtcnnSessions> {
        &self.pool
    }
}
