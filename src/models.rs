//! Where model bytes come from: compiled into the library (the default, so
//! an application needs nothing but ONNX Runtime), or a directory laid out
//! like this repository's `models/`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::classify::ClassifierChoice;
use crate::error::{Error, Result};

/// The source of the models.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ModelSource {
    /// The models built into the library.
    #[default]
    Embedded,
    /// A directory holding `mtcnn/{pnet,rnet,onet}.onnx` and
    /// `classifier/faceless-attributes.{onnx,json}` (and, for
    /// [`ClassifierChoice::Fast`], `classifier-fast/` with the same files).
    Directory(PathBuf),
}

/// The detector's three networks as ONNX bytes.
pub(crate) struct ModelSet {
    pub pnet: Cow<'static, [u8]>,
    pub rnet: Cow<'static, [u8]>,
    pub onet: Cow<'static, [u8]>,
}

static PNET: &[u8] = include_bytes!("../models/mtcnn/pnet.onnx");
static RNET: &[u8] = include_bytes!("../models/mtcnn/rnet.onnx");
static ONET: &[u8] = include_bytes!("../models/mtcnn/onet.onnx");
static CLASSIFIER: &[u8] = include_bytes!("../models/classifier/faceless-attributes.onnx");
static MANIFEST: &str = include_str!("../models/classifier/faceless-attributes.json");
static CLASSIFIER_FAST: &[u8] =
    include_bytes!("../models/classifier-fast/faceless-attributes.onnx");
static MANIFEST_FAST: &str = include_str!("../models/classifier-fast/faceless-attributes.json");

/// Gives back the resident pages of every embedded model (see
/// [`crate::memory::release_static`]); called after each session is made.
pub(crate) fn release_embedded() {
    for bytes in [PNET, RNET, ONET, CLASSIFIER, CLASSIFIER_FAST] {
        crate::memory::release_static(bytes);
    }
}

impl ModelSource {
    pub(crate) fn load_mtcnn(&self) -> Result<ModelSet> {
        Ok(match self {
            ModelSource::Embedded => ModelSet {
                pnet: Cow::Borrowed(PNET),
                rnet: Cow::Borrowed(RNET),
                onet: Cow::Borrowed(ONET),
            },
            ModelSource::Directory(dir) => ModelSet {
                pnet: Cow::Owned(read(dir, "mtcnn/pnet.onnx", "pnet")?),
                rnet: Cow::Owned(read(dir, "mtcnn/rnet.onnx", "rnet")?),
                onet: Cow::Owned(read(dir, "mtcnn/onet.onnx", "onet")?),
            },
        })
    }
}

impl ModelSource {
    /// The chosen classifier's ONNX bytes and manifest text.
    pub(crate) fn load_classifier(
        &self,
        choice: ClassifierChoice,
    ) -> Result<(Cow<'static, [u8]>, String)> {
        Ok(match (self, choice) {
            (ModelSource::Embedded, ClassifierChoice::Accurate) => {
                (Cow::Borrowed(CLASSIFIER), MANIFEST.to_string())
            }
            (ModelSource::Embedded, ClassifierChoice::Fast) => {
                (Cow::Borrowed(CLASSIFIER_FAST), MANIFEST_FAST.to_string())
            }
            (ModelSource::Directory(dir), choice) => {
                let folder = choice.folder();
                // A directory laid out before `fast` existed lacks the folder;
                // say so rather than leave the reader to guess from a path.
                if !dir.join(folder).is_dir() {
                    return Err(Error::model(
                        "faceless-attributes",
                        format!(
                            "the `{}` classifier is read from {folder}/ in the models \
                             directory, and {} has no {folder}/ folder",
                            choice.name(),
                            dir.display()
                        ),
                    ));
                }
                let json = read(
                    dir,
                    &format!("{folder}/faceless-attributes.json"),
                    "faceless-attributes",
                )?;
                let json = String::from_utf8(json)
                    .map_err(|_| Error::model("faceless-attributes", "manifest is not UTF-8"))?;
                let onnx = read(
                    dir,
                    &format!("{folder}/faceless-attributes.onnx"),
                    "faceless-attributes",
                )?;
                (Cow::Owned(onnx), json)
            }
        })
    }
}

pub(crate) fn read(dir: &Path, rel: &str, model: &str) -> Result<Vec<u8>> {
    let path = dir.join(rel);
    std::fs::read(&path)
        .map_err(|e| Error::model(model, format!("cannot read {}: {e}", path.display())))
}
