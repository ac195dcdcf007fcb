//! The classifier's manifest: everything the runtime must know about the
//! ONNX file to feed it and read it, written by `training/` at export.

use serde::Deserialize;

use crate::error::{Error, Result};

/// Age groups the model predicts (balanced quantiles of the training ages).
pub const AGE_GROUPS: usize = 12;
/// Gender classes as annotated in UTKFace.
pub const GENDER_LABELS: [&str; 2] = ["male", "female"];
/// Ethnicity classes as annotated in UTKFace.
pub const ETHNICITY_LABELS: [&str; 5] = ["white", "black", "asian", "indian", "others"];

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Manifest {
    pub name: String,
    pub version: String,
    pub sha256: Option<String>,
    pub input: InputSpec,
    pub chip_size: [u32; 2],
    pub outputs: Vec<String>,
    pub age_groups: AgeGroups,
    pub gender_labels: Vec<String>,
    pub ethnicity_labels: Vec<String>,
    pub temperature: Temperatures,
    pub alignment: Option<Alignment>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InputSpec {
    pub name: String,
    pub layout: String,
    pub channels: String,
    pub size: [u32; 2],
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AgeGroups {
    pub edges: Vec<u32>,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct Temperatures {
    pub age_group: f32,
    pub gender: f32,
    pub ethnicity: f32,
}

/// Where the five landmarks of a typical training chip lie, in chip pixels.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Alignment {
    pub chip_size: [u32; 2],
    pub landmarks: [[f32; 2]; 5],
}

pub(crate) const OUTPUTS: [&str; 4] = [
    "age_group_logits",
    "gender_logits",
    "ethnicity_logits",
    "age_years",
];

impl Manifest {
    /// Parses and checks a manifest against the contract the runtime needs.
    pub fn parse(json: &str) -> Result<Self> {
        let m: Manifest =
            serde_json::from_str(json).map_err(|e| bad(format!("malformed manifest: {e}")))?;
        m.validate()?;
        Ok(m)
    }

    /// Checks the ONNX bytes are the ones the manifest was written for.
    pub fn check_onnx(&self, onnx: &[u8]) -> Result<()> {
        use sha2::Digest;
        if let Some(expected) = &self.sha256 {
            let actual: String = sha2::Sha256::digest(onnx)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if !actual.eq_ignore_ascii_case(expected) {
                return Err(bad(format!(
                    "ONNX file has SHA-256 {actual}, the manifest expects {expected}: model and manifest do not belong together"
                )));
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        let i = &self.input;
        if i.name != "input" || i.layout != "NCHW" || i.channels != "RGB" {
            return Err(bad(format!(
                "input must be `input`, NCHW, RGB; manifest says {:?}, {}, {}",
                i.name, i.layout, i.channels
            )));
        }
        if i.size[0] < 16 || i.size[1] < 16 || i.size[0] > 1024 || i.size[1] > 1024 {
            return Err(bad(format!("input size {:?} is out of range", i.size)));
        }
        if i.std.iter().any(|s| !(s.is_finite() && *s > 0.0))
            || i.mean.iter().any(|m| !m.is_finite())
        {
            return Err(bad("input normalisation must be finite with positive std"));
        }
        if self.outputs != OUTPUTS {
            return Err(bad(format!(
                "outputs must be {OUTPUTS:?}, manifest says {:?}",
                self.outputs
            )));
        }
        if self.age_groups.labels.len() != AGE_GROUPS
            || self.age_groups.edges.len() != AGE_GROUPS + 1
        {
            return Err(bad(format!(
                "expected {AGE_GROUPS} age groups with {} edges, manifest has {} labels and {} edges",
                AGE_GROUPS + 1,
                self.age_groups.labels.len(),
                self.age_groups.edges.len()
            )));
        }
        if self.age_groups.edges.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("age group edges must increase"));
        }
        if self.gender_labels != GENDER_LABELS {
            return Err(bad(format!(
                "gender labels must be {GENDER_LABELS:?}, got {:?}",
                self.gender_labels
            )));
        }
        if self.ethnicity_labels != ETHNICITY_LABELS {
            return Err(bad(format!(
                "ethnicity labels must be {ETHNICITY_LABELS:?}, got {:?}",
                self.ethnicity_labels
            )));
        }
        let t = self.temperature;
        if [t.age_group, t.gender, t.ethnicity]
            .iter()
            .any(|t| !(t.is_finite() && *t > 0.0))
        {
            return Err(bad("temperatures must be positive"));
        }
        match &self.alignment {
            None => {
                return Err(bad(
                    "manifest has no `alignment` template (run tools/alignment_template.py)",
                ))
            }
            Some(a) if a.chip_size != self.chip_size || a.chip_size.contains(&0) => {
                return Err(bad(format!(
                    "alignment chip size {:?} must be the training chip size {:?}",
                    a.chip_size, self.chip_size
                )))
            }
            Some(a) if a.landmarks.iter().flatten().any(|v| !v.is_finite()) => {
                return Err(bad("alignment landmarks must be finite"))
            }
            Some(_) => {}
        }
        Ok(())
    }
}

fn bad(reason: impl std::fmt::Display) -> Error {
    Error::model("faceless-attributes", reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = include_str!("../../models/classifier/faceless-attributes.json");

    #[test]
    fn committed_manifest_is_valid() {
        Manifest::parse(GOOD).unwrap();
    }

    #[test]
    fn wrong_labels_are_refused() {
        let bad = GOOD.replace("\"indian\"", "\"hindu\"");
        let err = Manifest::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("ethnicity labels"), "{err}");
        let bad = GOOD.replace("\"age_years\"", "\"age\"");
        assert!(Manifest::parse(&bad).is_err());
        assert!(Manifest::parse("{").is_err());
    }
}
