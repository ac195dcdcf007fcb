//! The attribute classifier as a handle: the model's description and a pool
//! of its sessions, separate from the detector's so each pool holds only
//! what its calls use.

use std::sync::Arc;

use image::RgbImage;
use ort::session::Session;

use super::manifest::Manifest;
use super::{Attributes, ClassifierChoice, ClassifierSpec};
use crate::error::Result;
use crate::runtime;
use crate::session_pool::Pool;
use crate::sessions::SessionOptions;

/// Faces per model run. The session's arena keeps the largest activations
/// it has seen, and they grow with the batch (the accurate classifier's
/// float MobileNet blocks: several MB a face), while the time per face is
/// about the same from 2 faces up.
const FACES_PER_RUN: usize = 2;

/// Classifies aligned face chips; safe to share between threads.
pub struct Classifier {
    choice: ClassifierChoice,
    spec: Arc<ClassifierSpec>,
    pool: Pool<Session>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("choice", &self.choice)
            .field("name", &self.spec.manifest.name)
            .field("version", &self.spec.manifest.version)
            .finish_non_exhaustive()
    }
}

impl Classifier {
    /// Loads the default classifier ([`ClassifierChoice::Accurate`]) and
    /// checks it against its manifest.
    pub fn new(sessions: &SessionOptions) -> Result<Self> {
        Self::with_choice(sessions, ClassifierChoice::default())
    }

    /// Loads the chosen classifier and checks it against its manifest.
    pub fn with_choice(sessions: &SessionOptions, choice: ClassifierChoice) -> Result<Self> {
        let (onnx, json) = sessions.models.load_classifier(choice)?;
        let manifest = Manifest::parse(&json)?;
        manifest.check_onnx(&onnx)?;
        let spec = Arc::new(ClassifierSpec::new(manifest));
        // Borrowed when embedded: no copy of the model for the pool's sessions.
        let onnx = Arc::new(onnx);
        let checker = spec.clone();
        let pool = sessions.pool(move |env, rt| {
            let session = runtime::session(env, rt, "faceless-attributes", &onnx)?;
            checker.check_session(&session)?;
            Ok(session)
        })?;
        Ok(Classifier { choice, spec, pool })
    }

    /// Which of the embedded classifiers this is.
    pub fn choice(&self) -> ClassifierChoice {
        self.choice
    }

    /// The classifier's name and version, from its manifest.
    pub fn version(&self) -> (&str, &str) {
        (&self.spec.manifest.name, &self.spec.manifest.version)
    }

    pub(crate) fn spec(&self) -> &ClassifierSpec {
        &self.spec
    }

    /// Most calls served at once (the session pool's limit).
    pub fn max_sessions(&self) -> usize {
        self.pool.limit()
    }

    /// Classifies aligned chips (any size; resized to the model input) with
    /// one session, in order, [`FACES_PER_RUN`] faces per model run.
    pub fn classify(&self, chips: &[RgbImage]) -> Result<Vec<Attributes>> {
        if chips.is_empty() {
            return Ok(Vec::new());
        }
        self.pool.with(|s| {
            let mut out = Vec::with_capacity(chips.len());
            for run in chips.chunks(FACES_PER_RUN) {
                out.extend(self.spec.classify(s, run)?);
            }
            Ok(out)
        })
    }

    #[cfg(test)]
    pub(crate) fn pool(&self) -> &Pool<Session> {
        &self.pool
    }
}
