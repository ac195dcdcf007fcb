//! Stage 2, the refinement network: rescores every proposal on a 24×24 crop
//! and refines its box.

use crate::input::Frame;
use ort::session::Session;

use super::boxes::{nms, regress, square, Candidate, Overlap};
use super::refine::crop_batch;
use super::DetectorOptions;
use crate::error::Result;
use crate::inference::{self, Dim, Expect};

const SIDE: usize = 24;
/// Crops per model run: bounds ONNX Runtime's working memory on crowds
/// (its first layer's output is 54 KB per crop, 0.9 MB per run); larger
/// runs are slower per crop, their tensors falling out of the caches.
const BATCH: usize = 16;
/// Box offsets and face/non-face scores per crop.
const OUTPUTS: [Expect; 2] = [
    Expect {
        name: "reg",
        dims: &[Dim::Batch, Dim::Is(4)],
    },
    Expect {
        name: "prob",
        dims: &[Dim::Batch, Dim::Is(2)],
    },
];

/// Rescores candidates; keeps those above the R-Net threshold, suppressed,
/// regressed and squared for O-Net.
pub(crate) fn refine(
    sessions: &mut [&mut Session],
    img: &Frame<'_>,
    candidates: &[Candidate],
    opts: &DetectorOptions,
) -> Result<Vec<Candidate>> {
    let (data, kept) = crop_batch(img, candidates, SIDE);
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let out = inference::run_chunked(
        sessions,
        "rnet",
        [kept.len(), 3, SIDE, SIDE],
        &data,
        &OUTPUTS,
        BATCH,
    )?;
    let (reg, prob) = (&out[0], &out[1]);
    let passed: Vec<Candidate> = kept
        .iter()
        .enumerate()
        .filter(|&(i, _)| prob.data[i * 2 + 1] > opts.thresholds[1])
        .map(|(i, c)| Candidate {
            score: prob.data[i * 2 + 1],
            reg: [
                reg.data[i * 4],
                reg.data[i * 4 + 1],
                reg.data[i * 4 + 2],
                reg.data[i * 4 + 3],
            ],
            ..*c
        })
        .collect();
    Ok(nms(&passed, opts.nms_rnet, Overlap::Union)
        .into_iter()
        .map(|k| {
            let mut c = passed[k];
            let reg = c.reg;
            regress(&mut c, reg);
            square(&mut c);
            c
        })
        .collect())
}
