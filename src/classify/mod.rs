//! Face attributes: age group, age in years, gender and ethnicity, from an
//! aligned face chip, with temperature-calibrated probabilities.

mod choice;
mod classifier;
pub(crate) mod manifest;

use std::sync::Arc;

use image::imageops::FilterType;
use image::RgbImage;
use ort::session::Session;

pub use choice::ClassifierChoice;
pub use classifier::Classifier;
use manifest::{Manifest, OUTPUTS};
pub use manifest::{AGE_GROUPS, ETHNICITY_LABELS, GENDER_LABELS};

use crate::error::{Error, Result};
use crate::inference::{self, Dim, Expect};

/// The model's outputs (named as in the manifest) and their shapes: logits
/// per head, then the regressed age.
const EXPECTED: [Expect; 4] = [
    Expect {
        name: OUTPUTS[0],
        dims: &[Dim::Batch, Dim::Is(AGE_GROUPS)],
    },
    Expect {
        name: OUTPUTS[1],
        dims: &[Dim::Batch, Dim::Is(2)],
    },
    Expect {
        name: OUTPUTS[2],
        dims: &[Dim::Batch, Dim::Is(5)],
    },
    Expect {
        name: OUTPUTS[3],
        dims: &[Dim::Batch],
    },
];

/// One categorical answer with its calibrated probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index of the most probable class.
    pub index: usize,
    /// Its label.
    pub label: String,
    /// Its probability.
    pub prob: f32,
    /// The probability of every class, in label order; they sum to 1.
    pub probs: Vec<f32>,
    /// The label of every class, in the order of `probs` (shared by every
    /// prediction of one classifier).
    pub labels: Arc<[String]>,
}

/// Everything the classifier says about one face.
#[derive(Debug, Clone, PartialEq)]
pub struct Attributes {
    /// One of 12 age groups (labels such as `"29-34"`).
    pub age_group: Prediction,
    /// Estimated age in years.
    pub age_years: f32,
    /// `male` or `female`, as annotated in the training data.
    pub gender: Prediction,
    /// `white`, `black`, `asian`, `indian` or `others`, as annotated in the
    /// training data.
    pub ethnicity: Prediction,
}

/// The classifier's static description, shared by every session.
#[derive(Debug, Clone)]
pub(crate) struct ClassifierSpec {
    pub manifest: Manifest,
    /// Age group, gender and ethnicity labels, built once so predictions
    /// share them.
    labels: [Arc<[String]>; 3],
}

impl ClassifierSpec {
    pub fn new(manifest: Manifest) -> Self {
        let labels = [
            manifest.age_groups.labels.as_slice().into(),
            manifest.gender_labels.as_slice().into(),
            manifest.ethnicity_labels.as_slice().into(),
        ];
        ClassifierSpec { manifest, labels }
    }

    /// Input side `(width, height)` in pixels.
    pub fn input_size(&self) -> (u32, u32) {
        let [h, w] = self.manifest.input.size;
        (w, h)
    }

    /// Landmark template and chip size the pipeline aligns faces to.
    pub fn template(&self) -> ([[f32; 2]; 5], (u32, u32)) {
        let a = self.manifest.alignment.as_ref().expect("validated at load");
        (a.landmarks, (a.chip_size[0], a.chip_size[1]))
    }

    pub fn age_group_labels(&self) -> &[String] {
        &self.manifest.age_groups.labels
    }

    /// Checks the session's declared inputs and outputs fit the manifest.
    pub fn check_session(&self, session: &Session) -> Result<()> {
        let fail = |r: String| Error::model("faceless-attributes", r);
        let (w, h) = self.input_size();
        let inputs = session.inputs();
        if inputs.len() != 1 || inputs[0].name() != "input" {
            return Err(fail(
                "the ONNX model must have exactly one input named `input`".into(),
            ));
        }
        if let Some(shape) = inputs[0].dtype().tensor_shape() {
            let dims: &[i64] = shape;
            let fits = dims.len() == 4
                && dims[1] == 3
                && dims[2] == i64::from(h)
                && dims[3] == i64::from(w);
            if !fits {
                return Err(fail(format!(
                    "ONNX input shape {dims:?} does not match the manifest's [N, 3, {h}, {w}]"
                )));
            }
        }
        let names: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        if names != OUTPUTS {
            return Err(fail(format!(
                "ONNX outputs {names:?} do not match {OUTPUTS:?}"
            )));
        }
        for (outlet, width) in session.outputs().iter().zip([AGE_GROUPS, 2, 5]) {
            if let Some(shape) = outlet.dtype().tensor_shape() {
                let dims: &[i64] = shape;
                if dims.len() != 2 || dims[1] != width as i64 {
                    return Err(fail(format!(
                        "ONNX output {} has shape {dims:?}, expected [N, {width}]",
                        outlet.name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Resizes an aligned chip to the model input the way training did
    /// (PIL's antialiased bilinear = a triangle filter) and normalises it
    /// into `dst` (planar RGB).
    pub fn preprocess_into(&self, chip: &RgbImage, dst: &mut [f32]) {
        let (w, h) = self.input_size();
        let resized;
        let img = if chip.dimensions() == (w, h) {
            chip
        } else {
            resized = image::imageops::resize(chip, w, h, FilterType::Triangle);
            &resized
        };
        let plane = (w * h) as usize;
        let (mean, std) = (self.manifest.input.mean, self.manifest.input.std);
        for (i, px) in img.pixels().enumerate() {
            for c in 0..3 {
                dst[c * plane + i] = (f32::from(px.0[c]) / 255.0 - mean[c]) / std[c];
            }
        }
    }

    /// Classifies a batch of aligned chips in one model run.
    pub fn classify(&self, session: &mut Session, chips: &[RgbImage]) -> Result<Vec<Attributes>> {
        if chips.is_empty() {
            return Ok(Vec::new());
        }
        let (w, h) = self.input_size();
        let per = 3 * (w * h) as usize;
        let mut data = vec![0f32; chips.len() * per];
        for (chip, dst) in chips.iter().zip(data.chunks_exact_mut(per)) {
            self.preprocess_into(chip, dst);
        }
        let n = chips.len();
        let out = inference::run(
            session,
            "faceless-attributes",
            [n, 3, h as usize, w as usize],
            &data,
            &EXPECTED,
        )?;
        let t = self.manifest.temperature;
        let [ages, genders, ethnicities] = &self.labels;
        Ok((0..n)
            .map(|i| Attributes {
                age_group: predict(
                    &out[0].data[i * AGE_GROUPS..(i + 1) * AGE_GROUPS],
                    t.age_group,
                    ages,
                ),
                age_years: out[3].data[i].max(0.0),
                gender: predict(&out[1].data[i * 2..i * 2 + 2], t.gender, genders),
                ethnicity: predict(&out[2].data[i * 5..i * 5 + 5], t.ethnicity, ethnicities),
            })
            .collect())
    }
}

/// Calibrated softmax(logits / T) and its arg-max.
fn predict(logits: &[f32], temperature: f32, labels: &Arc<[String]>) -> Prediction {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits
        .iter()
        .map(|&l| ((l - max) / temperature).exp())
        .collect();
    let sum: f32 = exp.iter().sum();
    let probs: Vec<f32> = exp.iter().map(|e| e / sum).collect();
    let index = probs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    Prediction {
        index,
        label: labels[index].clone(),
        prob: probs[index],
        probs,
        labels: labels.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_softens() {
        let labels: Arc<[String]> = ["a".to_string(), "b".to_string()].into();
        let sharp = predict(&[0.0, 2.0], 1.0, &labels);
        let soft = predict(&[0.0, 2.0], 2.0, &labels);
        assert_eq!(sharp.index, 1);
        assert_eq!(sharp.label, "b");
        assert!(soft.prob < sharp.prob);
        assert!((sharp.probs.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((sharp.prob - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
    }
}
