//! Stage 1, the proposal network: a fully convolutional scan of an image
//! pyramid that proposes face candidates at every scale.

use image::RgbImage;
use ort::session::Session;

use super::boxes::{nms, regress_unit, square, Candidate, Overlap};
use super::resample::area_resize_into;
use super::DetectorOptions;
use crate::error::Result;
use crate::inference::{self, Dim, Expect};

/// P-Net sees 12×12 windows with a stride of 2 pixels.
const CELL: f32 = 12.0;
const STRIDE: f32 = 2.0;

/// Box offsets and face/non-face scores over one grid.
pub(crate) const OUTPUTS: [Expect; 2] = [
    Expect {
        name: "reg",
        dims: &[Dim::Batch, Dim::Is(4), Dim::Free(0), Dim::Free(1)],
    },
    Expect {
        name: "prob",
        dims: &[Dim::Batch, Dim::Is(2), Dim::Free(0), Dim::Free(1)],
    },
];

/// The pyramid's scales: the first maps the minimum face size onto P-Net's
/// 12-pixel window, each next one shrinks by `factor` until the shorter side
/// would drop below 12 pixels. Computed in f64 from the factor as given, as
/// the reference does with Python floats: a level's size is truncated, so a
/// factor rounded to f32 would change some levels by a pixel.
pub(crate) fn scales(width: u32, height: u32, min_face: f32, factor: f64) -> Vec<f64> {
    let m = 12.0 / f64::from(min_face);
    let mut min_side = f64::from(width.min(height)) * m;
    let mut scale = m;
    let mut out = Vec::new();
    while min_side >= 12.0 {
        out.push(scale);
        scale *= factor;
        min_side *= factor;
    }
    out
}

/// Runs P-Net over the pyramid and returns squared, regressed candidates.
pub(crate) fn propose(
    session: &mut Session,
    img: &RgbImage,
    opts: &DetectorOptions,
) -> Result<Vec<Candidate>> {
    let (w, h) = img.dimensions();
    let mut all = Vec::new();
    for scale in scales(w, h, opts.min_face_size, opts.scale_factor) {
        let hs = (f64::from(h) * scale + 1.0) as usize;
        let ws = (f64::from(w) * scale + 1.0) as usize;
        let mut data = vec![0f32; 3 * hs * ws];
        area_resize_into(img, (0, 0, w as usize, h as usize), ws, hs, &mut data);
        let out = inference::run(session, "pnet", [1, 3, hs, ws], &data, &OUTPUTS)?;
        let (reg, prob) = (&out[0], &out[1]);
        let (gh, gw) = (prob.shape[2], prob.shape[3]);
        let cells = gh * gw;
        let scale32 = scale as f32;
        let mut level = Vec::new();
        for gy in 0..gh {
            for gx in 0..gw {
                let i = gy * gw + gx;
                let score = prob.data[cells + i];
                if score < opts.thresholds[0] {
                    continue;
                }
                let (bx, by) = (gx as f32, gy as f32);
                level.push(Candidate {
                    x1: ((STRIDE * bx + 1.0) / scale32).floor(),
                    y1: ((STRIDE * by + 1.0) / scale32).floor(),
                    x2: ((STRIDE * bx + CELL) / scale32).floor(),
                    y2: ((STRIDE * by + CELL) / scale32).floor(),
                    score,
                    reg: [
                        reg.data[i],
                        reg.data[cells + i],
                        reg.data[2 * cells + i],
                        reg.data[3 * cells + i],
                    ],
                });
            }
        }
        let keep = nms(&level, opts.nms_pnet_scale, Overlap::Union);
        all.extend(keep.into_iter().map(|k| level[k]));
    }
    let keep = nms(&all, opts.nms_pnet_cross, Overlap::Union);
    Ok(keep
        .into_iter()
        .map(|k| {
            let mut c = all[k];
            regress_unit(&mut c);
            square(&mut c);
            c
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyramid_matches_reference() {
        // facenet-pytorch's own pyramid for the 512×512 astronaut, recorded
        // by tools/make_golden.py: scales and level sizes must be identical.
        let golden: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/golden/stages_astronaut.json")).unwrap();
        let reference = golden["scales"].as_array().unwrap();
        let ours = scales(512, 512, 20.0, 0.709);
        assert_eq!(ours.len(), reference.len());
        for (s, r) in ours.iter().zip(reference) {
            assert!((s - r["scale"].as_f64().unwrap()).abs() < 1e-12);
            let side = (512.0 * s + 1.0) as u64;
            assert_eq!(side, r["resized_hw"][0].as_u64().unwrap());
        }
        assert!(scales(11, 500, 12.0, 0.709).is_empty());
    }
}
