//! Where model bytes come from: compiled into the library (the default, so
//! an application needs nothing but ONNX Runtime), or a directory laid out
//! like this repository's `models/`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The source of the models.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ModelSource {
    /// The models built into the library.
    #[default]
    Embedded,
    /// A directory holding `mtcnn/{pnet,rnet,onet}.onnx` and
    /// `classifier/faceless-attributes.{onnx,json}`.
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
    /// The classifier's ONNX bytes and manifest text.
    pub(crate) fn load_classifier(&self) -> Result<(Cow<'static, [u8]>, String)> {
        Ok(match self {
            ModelSource::Embedded => (Cow::Borrowed(CLASSIFIER), MANIFEST.to_string()),
            ModelSource::Directory(dir) => {
                let json = read(
                    dir,
                    "classifier/faceless-attributes.json",
                    "faceless-attributes",
                )?;
                let json = String::from_utf8(json)
                    .map_err(|_| Error::model("faceless-attributes", "manifest is not UTF-8"))?;
                let onnx = read(
                    dir,
                    "classifier/faceless-attributes.onnx",
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
