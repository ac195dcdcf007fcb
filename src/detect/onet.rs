//! Stage 3, the output network: final score, box and five landmarks from a
//! 48×48 crop.

use crate::input::Frame;
use ort::session::Session;

use super::boxes::{nms, regress, Candidate, Overlap};
use super::refine::crop_batch;
use super::{DetectorOptions, Face};
use crate::error::Result;
use crate::inference::{self, Dim, Expect};

const SIDE: usize = 48;
/// Crops per model run: bounds ONNX Runtime's working memory on crowds
/// (its first layer's output is 271 KB per crop, 2.2 MB per run); larger
/// runs are slower per crop, their tensors falling out of the caches.
const BATCH: usize = 8;
/// Box offsets, five landmarks (x then y) and face/non-face scores per crop.
const OUTPUTS: [Expect; 3] = [
    Expect {
        name: "reg",
        dims: &[Dim::Batch, Dim::Is(4)],
    },
    Expect {
        name: "landmarks",
        dims: &[Dim::Batch, Dim::Is(10)],
    },
    Expect {
        name: "prob",
        dims: &[Dim::Batch, Dim::Is(2)],
    },
];

/// Scores the refined candidates and returns the faces that pass O-Net's own
/// threshold, with landmarks, after "Min" suppression of nested boxes.
pub(crate) fn finish(
    sessions: &mut [&mut Session],
    img: &Frame<'_>,
    candidates: &[Candidate],
    opts: &DetectorOptions,
) -> Result<Vec<Face>> {
    let (data, kept) = crop_batch(img, candidates, SIDE);
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let out = inference::run_chunked(
        sessions,
        "onet",
        [kept.len(), 3, SIDE, SIDE],
        &data,
        &OUTPUTS,
        BATCH,
    )?;
    let (reg, marks, prob) = (&out[0], &out[1], &out[2]);
    let mut boxes = Vec::new();
    let mut points = Vec::new();
    for (i, c) in kept.iter().enumerate() {
        let score = prob.data[i * 2 + 1];
        if score <= opts.thresholds[2] {
            continue;
        }
        // Landmarks are relative to the box O-Net saw, before its regression;
        // the -1 undoes the 1-based crop origin of the reference.
        let w = c.x2 - c.x1 + 1.0;
        let h = c.y2 - c.y1 + 1.0;
        let m = &marks.data[i * 10..i * 10 + 10];
        let mut lm = [[0f32; 2]; 5];
        for (k, p) in lm.iter_mut().enumerate() {
            *p = [w * m[k] + c.x1 - 1.0, h * m[5 + k] + c.y1 - 1.0];
        }
        let mut c = Candidate { score, ..*c };
        regress(
            &mut c,
            [
                reg.data[i * 4],
                reg.data[i * 4 + 1],
                reg.data[i * 4 + 2],
                reg.data[i * 4 + 3],
            ],
        );
        boxes.push(c);
        points.push(lm);
    }
    Ok(nms(&boxes, opts.nms_onet, Overlap::Min)
        .into_iter()
        .map(|k| {
            let c = boxes[k];
            Face {
                bbox: [c.x1, c.y1, c.x2, c.y2],
                score: c.score,
                landmarks: points[k],
            }
        })
        .collect())
}
