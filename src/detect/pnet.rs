//! Stage 1, the proposal network: a fully convolutional scan of an image
//! pyramid that proposes face candidates at every scale.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use image::RgbImage;
use ort::session::Session;

use super::boxes::{nms, regress_unit, square, Candidate, Overlap};
use super::resample::area_resize_rows_into;
use super::DetectorOptions;
use crate::error::{Error, Result};
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

/// Most input pixels of one P-Net run. Large levels are cut into bands of
/// whole rows that overlap by P-Net's receptive field, which gives exactly
/// the full level's grid (see [`bands`]) while bounding the tensors ONNX
/// Runtime allocates (its convolutions' im2col buffers grow with the input:
/// a 4K photo's first level alone took hundreds of MB in one run).
const BAND_PIXELS: usize = 1 << 16;

/// One P-Net run: grid rows `g0..g1` of pyramid level `scale` (resized to
/// `ws × hs`), read from resized rows `r0..r1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Band {
    pub scale: f64,
    pub ws: usize,
    pub hs: usize,
    pub g0: usize,
    pub g1: usize,
    pub r0: usize,
    pub r1: usize,
}

/// P-Net's output grid for a `w × h` input: 3×3 convolution, 2×2 max pool
/// with `ceil_mode`, two more 3×3 convolutions (facenet-pytorch's `PNet`).
fn grid(side: usize) -> usize {
    (side - 2).div_ceil(2).saturating_sub(4)
}

/// The runs that cover one pyramid level. Grid row `g` sees resized rows
/// `2g .. 2g + 12`; a band of grid rows `g0..g1` therefore reads rows
/// `2·g0 .. 2·g1 + 10` (even start: its pooling windows are the full
/// level's), and the last band reads to the bottom so that its partial
/// pooling window is the full level's too.
pub(crate) fn bands(scale: f64, ws: usize, hs: usize, max_pixels: usize) -> Vec<Band> {
    let gh = grid(hs);
    let per_band = (max_pixels / ws.max(1)).saturating_sub(10).max(2) / 2;
    let mut out = Vec::new();
    let mut g0 = 0;
    while g0 < gh {
        let g1 = (g0 + per_band).min(gh);
        let r1 = if g1 == gh { hs } else { 2 * g1 + 10 };
        out.push(Band {
            scale,
            ws,
            hs,
            g0,
            g1,
            r0: 2 * g0,
            r1,
        });
        g0 = g1;
    }
    out
}

/// Every P-Net run for an image, level by level, top to bottom.
pub(crate) fn plan(w: u32, h: u32, opts: &DetectorOptions) -> Vec<Band> {
    scales(w, h, opts.min_face_size, opts.scale_factor)
        .into_iter()
        .flat_map(|scale| {
            let hs = (f64::from(h) * scale + 1.0) as usize;
            let ws = (f64::from(w) * scale + 1.0) as usize;
            bands(scale, ws, hs, BAND_PIXELS)
        })
        .collect()
}

/// Buffers one thread reuses across its P-Net runs.
#[derive(Default)]
pub(crate) struct Scratch {
    input: Vec<f32>,
    rows: Vec<u32>,
}

/// Runs P-Net on one band and returns its candidates above the threshold,
/// in grid order (row-major, as the reference's `nonzero`).
pub(crate) fn run_band(
    session: &mut Session,
    img: &RgbImage,
    band: &Band,
    opts: &DetectorOptions,
    scratch: &mut Scratch,
) -> Result<Vec<Candidate>> {
    let (w, h) = img.dimensions();
    let Band {
        scale,
        ws,
        hs,
        g0,
        g1,
        r0,
        r1,
    } = *band;
    let rows = r1 - r0;
    scratch.input.clear();
    scratch.input.resize(3 * ws * rows, 0.0);
    area_resize_rows_into(
        img,
        (0, 0, w as usize, h as usize),
        ws,
        hs,
        r0..r1,
        &mut scratch.input,
        &mut scratch.rows,
    );
    let out = inference::run(session, "pnet", [1, 3, rows, ws], &scratch.input, &OUTPUTS)?;
    let (reg, prob) = (&out[0], &out[1]);
    let (gh, gw) = (prob.shape[2], prob.shape[3]);
    if gh != g1 - g0 || gw != grid(ws) {
        return Err(Error::model(
            "pnet",
            format!(
                "a {ws}×{rows} input gave a {gw}×{gh} grid; P-Net's architecture gives {}×{}",
                grid(ws),
                g1 - g0
            ),
        ));
    }
    let cells = gh * gw;
    let scale32 = scale as f32;
    let mut level = Vec::new();
    for ly in 0..gh {
        for gx in 0..gw {
            let i = ly * gw + gx;
            let score = prob.data[cells + i];
            if score < opts.thresholds[0] {
                continue;
            }
            let (bx, by) = (gx as f32, (g0 + ly) as f32);
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
    Ok(level)
}

/// Merges the bands' candidates (in plan order) into proposals: suppression
/// within each level, then across levels; regressed and squared.
pub(crate) fn merge(
    plan: &[Band],
    found: Vec<Vec<Candidate>>,
    opts: &DetectorOptions,
) -> Vec<Candidate> {
    let mut all = Vec::new();
    let mut level: Vec<Candidate> = Vec::new();
    for (i, (band, cands)) in plan.iter().zip(found).enumerate() {
        level.extend(cands);
        let level_ends = plan.get(i + 1).is_none_or(|next| next.scale != band.scale);
        if level_ends {
            let keep = nms(&level, opts.nms_pnet_scale, Overlap::Union);
            all.extend(keep.into_iter().map(|k| level[k]));
            level.clear();
        }
    }
    let keep = nms(&all, opts.nms_pnet_cross, Overlap::Union);
    keep.into_iter()
        .map(|k| {
            let mut c = all[k];
            regress_unit(&mut c);
            square(&mut c);
            c
        })
        .collect()
}

/// Runs P-Net over the pyramid and returns squared, regressed candidates.
/// The bands are shared out among `sessions`, one thread each (this one and
/// `sessions.len() - 1` more), largest first.
pub(crate) fn propose(
    sessions: &mut [&mut Session],
    img: &RgbImage,
    opts: &DetectorOptions,
) -> Result<Vec<Candidate>> {
    let (w, h) = img.dimensions();
    let plan = plan(w, h, opts);
    let workers = sessions.len().min(plan.len()).max(1);
    // Each worker takes the next band; with one worker this thread runs
    // them all in order and no thread is started.
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Vec<Candidate>>>>> =
        plan.iter().map(|_| Mutex::new(None)).collect();
    let work = |session: &mut Session| {
        let mut scratch = Scratch::default();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(band) = plan.get(i) else { break };
            let r = run_band(session, img, band, opts, &mut scratch);
            *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
        }
    };
    let (first, rest) = sessions[..workers].split_first_mut().expect("workers >= 1");
    std::thread::scope(|scope| {
        for session in rest {
            let work = &work;
            scope.spawn(move || work(session));
        }
        work(first);
    });
    let found: Vec<Option<Result<Vec<Candidate>>>> = slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect();
    let found = found
        .into_iter()
        .map(|r| r.expect("every band ran"))
        .collect::<Result<Vec<_>>>()?;
    Ok(merge(&plan, found, opts))
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

    #[test]
    fn bands_tile_the_grid_exactly() {
        for (ws, hs) in [
            (12, 12),
            (13, 13),
            (100, 31),
            (1153, 649),
            (2304, 1297),
            (40, 1000),
        ] {
            for budget in [1, 5_000, BAND_PIXELS, usize::MAX / 4] {
                let b = bands(0.5, ws, hs, budget);
                assert_eq!(b.first().unwrap().g0, 0);
                assert_eq!(b.last().unwrap().g1, grid(hs));
                assert_eq!(b.last().unwrap().r1, hs);
                for w in b.windows(2) {
                    assert_eq!(w[0].g1, w[1].g0);
                }
                for band in &b {
                    // The band's input gives exactly its grid rows.
                    assert_eq!(grid(band.r1 - band.r0), band.g1 - band.g0, "{band:?}");
                    assert_eq!(band.r0 % 2, 0);
                    assert!(band.r1 <= hs);
                }
            }
        }
        assert_eq!(grid(12), 1);
        assert_eq!(grid(13), 2);
        assert_eq!(grid(14), 2);
    }
}
