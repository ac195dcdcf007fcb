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

pub(crate) fn read(dir: &Path, rel: &str, model: &str) -> Result<Vec<u8>> {
    let path = dir.join(rel);
    std::fs::read(&path)
        .map_err(|e| Error::model(model, format!("cannot read {}: {e}", path.display())))
}
