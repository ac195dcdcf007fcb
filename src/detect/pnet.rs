//! Stage 1, the proposal network: a fully convolutional scan of an image
//! pyramid that proposes face candidates at every scale.

use std::sync::OnceLock;

use ort::session::Session;

use super::boxes::{nms, regress_unit, square, Candidate, Overlap};
use super::resample::{self, area_resize_rows_into, Part, Planes};
use super::{DetectorOptions, Set};
use crate::error::{Error, Result};
use crate::inference::{self, Dim, Expect};
use crate::input::Frame;

/// P-Net sees 12×12 windows with a stride of 2 pixels.
const CELL: f32 = 12.0;
const STRIDE: f32 = 2.0;

/// Per grid cell: four box offsets, then the face margin, whose logistic
/// sigmoid is the reference's face probability (`tools/convert_mtcnn.py`
/// merges P-Net's two heads and its softmax into this one output).
const OUTPUTS: [Expect; 1] = [Expect {
    name: "cells",
    dims: &[Dim::Batch, Dim::Is(5), Dim::Free(0), Dim::Free(1)],
}];

/// The face probability of a face margin: softmax over (non-face, face)
/// logits is the sigmoid of their difference.
#[inline]
fn face_probability(margin: f32) -> f32 {
    1.0 / (1.0 + (-margin).exp())
}

/// A margin below which no cell can reach `threshold`: the sigmoid is then
/// computed only for cells at or above it, and compared exactly.
fn margin_floor(threshold: f32) -> f32 {
    // The sigmoid rounds to 1.0 in f32 only above a margin of 16.6, so a
    // threshold of 1 still has a finite floor; 1e-3 covers its rounding.
    let t = f64::from(threshold).clamp(0.0, 1.0 - 1e-7);
    ((t / (1.0 - t)).ln() - 1e-3) as f32
}

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
/// whole rows, and wide bands into tiles of columns, that overlap by
/// P-Net's receptive field; together they give exactly the full level's grid
/// (see [`bands`] and [`tiles`]) while bounding the tensors ONNX Runtime
/// allocates (its convolutions' im2col buffers grow with the input: a 4K
/// photo's first level alone took hundreds of MB in one run). Runs of about
/// 128×128 pixels keep P-Net's activations in the CPU's cache, which makes
/// each grid cell cheaper than in long, low bands, overlap included.
const TILE_PIXELS: usize = 1 << 14;

/// Most input columns of one P-Net run.
const TILE_COLUMNS: usize = 128;

/// Most pixels of one band, the resized rows its tiles are cut from: a
/// very wide image's band gets fewer rows, so a worker's buffers stay
/// bounded (two bands of 12 bytes a pixel) whatever the image's width.
const BAND_PIXELS: usize = 1 << 19;

/// Most pixels of the pyramid's small levels resized together in one pass
/// over the image ([`Sweep`]): each level resized alone reads the whole
/// image, which is most of a small level's cost; a larger budget brings in
/// large levels, whose rows cost more through the sweep than on their own.
const SWEEP_PIXELS: usize = 1 << 19;

/// Most bytes of the working rows of a [`Sweep`] (a very wide image's are
/// resized level by level instead).
const SWEEP_ROW_BYTES: usize = 8 << 20;

/// The pyramid's smallest levels, within [`SWEEP_PIXELS`] together,
/// resized in one pass over the image by the first worker that needs one of
/// them (the others wait for it: the plan puts these levels last).
pub(crate) struct Sweep {
    scales: Vec<f64>,
    sizes: Vec<(usize, usize)>,
    levels: OnceLock<Vec<Vec<f32>>>,
}

impl Sweep {
    /// The plan's last levels that fit, if two or more do; none larger than
    /// the image (a level that enlarges reads each row for several).
    pub(crate) fn new(plan: &[Band], w: u32, h: u32) -> Sweep {
        let (mut scales, mut sizes) = (Vec::new(), Vec::new());
        let mut pixels = 0;
        for band in plan.iter().rev() {
            if scales.last() == Some(&band.scale) {
                continue;
            }
            pixels += band.ws * band.hs;
            if pixels > SWEEP_PIXELS || band.ws > w as usize || band.hs > h as usize {
                break;
            }
            scales.push(band.scale);
            sizes.push((band.ws, band.hs));
        }
        // Its working rows: a running sum, a window's, and two starts per
        // level, full width in u32.
        let rows = 2 + 2 * scales.len();
        if scales.len() < 2 || rows * w as usize * 3 * 4 > SWEEP_ROW_BYTES {
            scales.clear();
            sizes.clear();
        }
        Sweep {
            scales,
            sizes,
            levels: OnceLock::new(),
        }
    }

    /// `band`'s whole level, planar, if it is one of the swept levels.
    fn level(&self, img: &Frame<'_>, band: &Band) -> Option<&[f32]> {
        let i = self.scales.iter().position(|&s| s == band.scale)?;
        let levels = self
            .levels
            .get_or_init(|| resample::area_resize_levels(img, &self.sizes));
        Some(&levels[i])
    }
}

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

/// Grid cells `g0..g1` along one side of an input, read from its pixels
/// `p0..p1` along that side: a band's rows, or a tile's columns.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    g0: usize,
    g1: usize,
    p0: usize,
    p1: usize,
}

/// P-Net's output grid for a `w × h` input: 3×3 convolution, 2×2 max pool
/// with `ceil_mode`, two more 3×3 convolutions (facenet-pytorch's `PNet`).
fn grid(side: usize) -> usize {
    (side - 2).div_ceil(2).saturating_sub(4)
}

/// The runs that cover `side` input pixels along one axis, at most `most`
/// grid cells each, shared evenly. Grid cell `g` sees pixels `2g .. 2g +
/// 12`; a span of cells `g0..g1` therefore reads `2·g0 .. 2·g1 + 10` (even
/// start: its pooling windows are the whole input's), and the last span
/// reads to the edge so that its partial pooling window is the whole
/// input's too.
fn spans(side: usize, most: usize) -> impl Iterator<Item = Span> {
    let cells = grid(side);
    let n = cells.div_ceil(most.max(1));
    (0..n).map(move |i| {
        let (g0, g1) = (cells * i / n, cells * (i + 1) / n);
        let p1 = if g1 == cells { side } else { 2 * g1 + 10 };
        Span {
            g0,
            g1,
            p0: 2 * g0,
            p1,
        }
    })
}

/// The bands that cover one pyramid level, top to bottom ([`spans`] of its
/// rows), each at most `max_pixels` in a tile of [`TILE_COLUMNS`].
pub(crate) fn bands(scale: f64, ws: usize, hs: usize, max_pixels: usize) -> Vec<Band> {
    let run_width = ws.clamp(1, TILE_COLUMNS);
    let rows = (max_pixels / run_width).min(BAND_PIXELS / ws.max(1));
    let per_band = rows.saturating_sub(10).max(2) / 2;
    spans(hs, per_band)
        .map(|s| Band {
            scale,
            ws,
            hs,
            g0: s.g0,
            g1: s.g1,
            r0: s.p0,
            r1: s.p1,
        })
        .collect()
}

/// Every P-Net run for an image, level by level, top to bottom.
pub(crate) fn plan(w: u32, h: u32, opts: &DetectorOptions) -> Vec<Band> {
    scales(w, h, opts.min_face_size, opts.scale_factor)
        .into_iter()
        .flat_map(|scale| {
            let hs = (f64::from(h) * scale + 1.0) as usize;
            let ws = (f64::from(w) * scale + 1.0) as usize;
            bands(scale, ws, hs, TILE_PIXELS)
        })
        .collect()
}

/// The tiles that cover a band `ws` columns wide, left to right ([`spans`]
/// of its columns), each at most `max_columns` wide.
fn tiles(ws: usize, max_columns: usize) -> Vec<Span> {
    spans(ws, (max_columns.saturating_sub(10) / 2).max(1)).collect()
}

/// Buffers one thread reuses across its P-Net runs.
#[derive(Default)]
pub(crate) struct Scratch {
    /// The band's resized rows, tile after tile, each tile's columns planar
    /// (channel after channel): every run's input is one slice of it.
    input: Vec<f32>,
    /// The previous run's input, and its band: the next band of the same
    /// level starts inside it, and copies those rows instead of resizing
    /// them again (consecutive bands share P-Net's receptive field, 10 rows).
    previous: Vec<f32>,
    held: Option<Band>,
    resample: resample::Scratch,
}

impl Scratch {
    /// Fills `input` with resized rows `r0..r1` of `band`'s level, `tiles`
    /// (the band's) one after the other, each planar: each tile is resized
    /// into place, not copied out of a whole-width band.
    fn resize(&mut self, img: &Frame<'_>, band: &Band, tiles: &[Span], sweep: &Sweep) {
        let (w, h) = img.dimensions();
        let Band { ws, hs, r0, r1, .. } = *band;
        let rows = r1 - r0;
        std::mem::swap(&mut self.input, &mut self.previous);
        // Every value is written below: the copy or the resize fills each
        // row of each plane, so stale values need no zeroing first.
        let columns: usize = tiles.iter().map(|t| t.p1 - t.p0).sum();
        self.input.resize(3 * columns * rows, 0.0);
        if let Some(level) = sweep.level(img, band) {
            let mut at = 0;
            for t in tiles {
                let width = t.p1 - t.p0;
                for c in 0..3 {
                    for y in r0..r1 {
                        let src = &level[c * ws * hs + ws * y + t.p0..][..width];
                        self.input[at..at + width].copy_from_slice(src);
                        at += width;
                    }
                }
            }
            self.held = Some(*band);
            return;
        }
        // Rows `r0..from` are the end of the previous band of this level
        // (the same width, so the same tiles).
        let from = match self.held.take() {
            Some(p) if p.scale == band.scale && p.r0 <= r0 && r0 < p.r1 && p.r1 <= r1 => {
                let held = p.r1 - p.r0;
                let (mut old, mut new) = (0, 0);
                for t in tiles {
                    let width = t.p1 - t.p0;
                    let n = width * (p.r1 - r0);
                    for c in 0..3 {
                        let src = &self.previous[old + width * (c * held + r0 - p.r0)..][..n];
                        self.input[new + width * c * rows..][..n].copy_from_slice(src);
                    }
                    old += 3 * width * held;
                    new += 3 * width * rows;
                }
                p.r1
            }
            _ => r0,
        };
        if from < r1 {
            // Each tile's rows go to its own slot, from row `from` on.
            let mut parts = Vec::with_capacity(tiles.len());
            let mut rest = self.input.as_mut_slice();
            for t in tiles {
                let plane = (t.p1 - t.p0) * rows;
                let (slot, after) = std::mem::take(&mut rest).split_at_mut(3 * plane);
                rest = after;
                parts.push(Part {
                    cols: t.p0..t.p1,
                    dst: Planes {
                        data: &mut slot[(t.p1 - t.p0) * (from - r0)..],
                        plane,
                    },
                });
            }
            area_resize_rows_into(
                img,
                (0, 0, w as usize, h as usize),
                (ws, hs),
                from..r1,
                &mut parts,
                &mut self.resample,
            );
        }
        self.held = Some(*band);
    }
}

/// Runs P-Net on one band, tile by tile, and returns its candidates above
/// the threshold in grid order (row-major, as the reference's `nonzero`).
pub(crate) fn run_band(
    session: &mut Session,
    img: &Frame<'_>,
    band: &Band,
    opts: &DetectorOptions,
    scratch: &mut Scratch,
    sweep: &Sweep,
) -> Result<Vec<Candidate>> {
    let Band { ws, r0, r1, .. } = *band;
    let rows = r1 - r0;
    let tiles = tiles(ws, TILE_COLUMNS);
    scratch.resize(img, band, &tiles, sweep);
    // (grid row in the band, grid column, candidate)
    let mut found = Vec::new();
    let mut inputs = scratch.input.as_slice();
    for tile in &tiles {
        let width = tile.p1 - tile.p0;
        let (input, rest) = inputs.split_at(3 * rows * width);
        inputs = rest;
        let out = inference::run(session, "pnet", [1, 3, rows, width], input, &OUTPUTS)?;
        scan(&out[0], band, tile, opts, &mut found)?;
    }
    if tiles.len() > 1 {
        found.sort_unstable_by_key(|&(ly, gx, _)| (ly, gx));
    }
    Ok(found.into_iter().map(|(_, _, c)| c).collect())
}

/// Appends the cells of one run's output `cells` (tile `tile` of `band`)
/// that reach the threshold, with their grid row in the band and column.
fn scan(
    cells: &inference::Output,
    band: &Band,
    tile: &Span,
    opts: &DetectorOptions,
    found: &mut Vec<(usize, usize, Candidate)>,
) -> Result<()> {
    let (rows, width) = (band.r1 - band.r0, tile.p1 - tile.p0);
    let (gh, gw) = (cells.shape[2], cells.shape[3]);
    if gh != band.g1 - band.g0 || gw != tile.g1 - tile.g0 {
        return Err(Error::model(
            "pnet",
            format!(
                "a {width}×{rows} input gave a {gw}×{gh} grid; P-Net's architecture gives {}×{}",
                grid(width),
                grid(rows)
            ),
        ));
    }
    let n = gh * gw;
    let (reg, margins) = cells.data.split_at(4 * n);
    let floor = margin_floor(opts.thresholds[0]);
    let scale32 = band.scale as f32;
    for ly in 0..gh {
        for lx in 0..gw {
            let i = ly * gw + lx;
            if margins[i] < floor {
                continue;
            }
            let score = face_probability(margins[i]);
            if score < opts.thresholds[0] {
                continue;
            }
            let gx = tile.g0 + lx;
            let (bx, by) = (gx as f32, (band.g0 + ly) as f32);
            let candidate = Candidate {
                x1: ((STRIDE * bx + 1.0) / scale32).floor(),
                y1: ((STRIDE * by + 1.0) / scale32).floor(),
                x2: ((STRIDE * bx + CELL) / scale32).floor(),
                y2: ((STRIDE * by + CELL) / scale32).floor(),
                score,
                reg: [reg[i], reg[n + i], reg[2 * n + i], reg[3 * n + i]],
            };
            found.push((ly, gx, candidate));
        }
    }
    Ok(())
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

/// Most consecutive bands one worker takes at a time: each but the first
/// reuses its predecessor's overlapping rows, and runs stay short enough
/// for the workers to finish together.
const RUN_BANDS: usize = 8;

/// The plan's bands in runs of consecutive ones within one level: at most
/// [`RUN_BANDS`], and a level of few bands is split so that each of
/// `workers` gets a share of it.
fn runs(plan: &[Band], workers: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < plan.len() {
        let level = plan[start..]
            .iter()
            .take_while(|b| b.scale == plan[start].scale)
            .count();
        let len = level.div_ceil(workers.max(1)).clamp(1, RUN_BANDS);
        let end = start + level;
        out.extend((start..end).step_by(len).map(|s| s..(s + len).min(end)));
        start = end;
    }
    out
}

/// Runs P-Net over the pyramid and returns squared, regressed candidates,
/// with the session sets that took part. The bands are taken in runs,
/// largest level first, by `own` on this thread and by the sets `hire`
/// gives before each of this thread's runs, one thread each; runs are sized
/// for `workers`, the most sets that may take part.
pub(crate) fn propose<'a, 'p>(
    own: Set<'a, 'p>,
    hire: &dyn Fn(usize) -> Vec<Set<'a, 'p>>,
    workers: usize,
    img: &Frame<'_>,
    opts: &DetectorOptions,
) -> Result<(Vec<Candidate>, Vec<Set<'a, 'p>>)> {
    let (w, h) = img.dimensions();
    let plan = plan(w, h, opts);
    let runs = runs(&plan, workers);
    let sweep = Sweep::new(&plan, w, h);
    // Each worker takes the next run of bands, with its own buffers.
    let work = |(set, scratch): &mut (Set<'a, 'p>, Scratch), r: usize| {
        runs[r]
            .clone()
            .map(|i| run_band(&mut set.pnet, img, &plan[i], opts, scratch, &sweep))
            .collect::<Vec<_>>()
    };
    let hire = |left: usize| {
        hire(left)
            .into_iter()
            .map(|s| (s, Scratch::default()))
            .collect()
    };
    let mut own = (own, Scratch::default());
    let (found, hired) = crate::batch::share_joining(&mut own, runs.len(), hire, work);
    let sets = std::iter::once(own.0)
        .chain(hired.into_iter().map(|(s, _)| s))
        .collect();
    let found = found.into_iter().flatten().collect::<Result<Vec<_>>>()?;
    Ok((merge(&plan, found, opts), sets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::frame;
    use image::RgbImage;

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
    fn face_probability_is_the_softmax_and_the_floor_drops_no_passing_cell() {
        for (face, other) in [(2.0f32, -1.0f32), (-3.5, 0.25), (0.0, 0.0), (20.0, -5.0)] {
            let (a, b) = (f64::from(face), f64::from(other));
            let softmax = a.exp() / (a.exp() + b.exp());
            let p = f64::from(face_probability(face - other));
            assert!(
                (p - softmax).abs() < 1e-6,
                "{face} {other}: {p} vs {softmax}"
            );
        }
        for t in [1e-6f32, 0.3, 0.5, 0.6, 0.7, 0.95, 0.999_999, 1.0] {
            let floor = margin_floor(t);
            // Margins just under the floor, stepped in ulps, never reach t.
            let mut m = floor;
            for _ in 0..2000 {
                m = f32::from_bits(if m > 0.0 {
                    m.to_bits() - 1
                } else {
                    m.to_bits() + 1
                });
                assert!(face_probability(m) < t, "t {t}: margin {m}");
            }
            // And the floor is tight: a little above it, cells pass.
            if t < 0.99 {
                assert!(face_probability(floor + 0.01) >= t, "t {t}");
            }
        }
        assert_eq!(margin_floor(0.0), f32::NEG_INFINITY);
    }

    #[test]
    fn spans_give_exactly_the_grid() {
        for side in [12, 13, 14, 31, 127, 128, 129, 130, 649, 1153, 1297, 3841] {
            for most in [1, 2, 5, 59, 1000, usize::MAX / 4] {
                let spans: Vec<_> = spans(side, most).collect();
                assert_eq!(spans.first().unwrap().g0, 0);
                assert_eq!(spans.last().unwrap().g1, grid(side));
                assert_eq!(spans.last().unwrap().p1, side);
                for pair in spans.windows(2) {
                    assert_eq!(pair[0].g1, pair[1].g0);
                }
                for span in &spans {
                    // The span's pixels give exactly its grid cells.
                    assert_eq!(
                        grid(span.p1 - span.p0),
                        span.g1 - span.g0,
                        "{side} {span:?}"
                    );
                    assert_eq!(span.p0 % 2, 0);
                    assert!(span.p1 <= side);
                }
                // Shared evenly, none above `most`.
                let sizes: Vec<_> = spans.iter().map(|s| s.g1 - s.g0).collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(
                    *lo >= 1 && hi - lo <= 1 && *hi <= most,
                    "{side} {most} {sizes:?}"
                );
            }
        }
        assert_eq!(grid(12), 1);
        assert_eq!(grid(13), 2);
        assert_eq!(grid(14), 2);
    }

    #[test]
    fn bands_and_tiles_stay_within_their_budgets() {
        for (ws, hs) in [(12, 12), (100, 31), (1153, 649), (2304, 1297), (40, 1000)] {
            let b = bands(0.5, ws, hs, TILE_PIXELS);
            assert_eq!((b[0].r0, b.last().unwrap().r1), (0, hs));
            for band in &b {
                let rows = band.r1 - band.r0;
                for tile in tiles(ws, TILE_COLUMNS) {
                    assert!(tile.p1 - tile.p0 <= TILE_COLUMNS.max(12));
                    assert!(rows * (tile.p1 - tile.p0) <= TILE_PIXELS + 2 * TILE_COLUMNS);
                }
            }
        }
        // Wide levels: bands stay within BAND_PIXELS while it allows 12 rows.
        for ws in [2304, 4608, 20_000, 39_300] {
            for band in bands(0.5, ws, 5000, TILE_PIXELS) {
                assert!((band.r1 - band.r0) * ws <= BAND_PIXELS.max(12 * ws) + 2 * ws);
            }
        }
        assert_eq!(tiles(TILE_COLUMNS, TILE_COLUMNS).len(), 1);
        assert_eq!(tiles(2304, TILE_COLUMNS).len(), 20);
    }

    #[test]
    fn reused_and_swept_rows_equal_a_fresh_resize() {
        let img = RgbImage::from_fn(1500, 700, |x, y| {
            image::Rgb([(x * 7 + y * 3) as u8, (x * y) as u8, (x ^ y) as u8])
        });
        let img = frame(&img);
        let plan = plan(1500, 700, &DetectorOptions::default());
        let (sweep, none) = (Sweep::new(&plan, 1500, 700), Sweep::new(&[], 1500, 700));
        assert!(sweep.scales.len() > 4 && none.scales.is_empty());
        let mut reused = Scratch::default();
        let mut copies = 0;
        for run in runs(&plan, 1) {
            for band in &plan[run] {
                let overlaps = reused.held.is_some_and(|p| p.scale == band.scale);
                let tiles = tiles(band.ws, TILE_COLUMNS);
                reused.resize(&img, band, &tiles, &sweep);
                let mut fresh = Scratch::default();
                fresh.resize(&img, band, &tiles, &none);
                assert_eq!(reused.input, fresh.input, "{band:?}");
                copies += usize::from(overlaps);
                // Each tile holds its columns of the whole-width band.
                let rows = band.r1 - band.r0;
                let plane = band.ws * rows;
                let mut whole = vec![0f32; 3 * plane];
                resample::area_resize_rows_into(
                    &img,
                    (0, 0, 1500, 700),
                    (band.ws, band.hs),
                    band.r0..band.r1,
                    &mut [Part {
                        cols: 0..band.ws,
                        dst: Planes {
                            data: &mut whole,
                            plane,
                        },
                    }],
                    &mut resample::Scratch::default(),
                );
                let mut slots = fresh.input.as_slice();
                for t in &tiles {
                    let (slot, rest) = slots.split_at(3 * rows * (t.p1 - t.p0));
                    slots = rest;
                    let expected: Vec<f32> = whole
                        .chunks_exact(band.ws)
                        .flat_map(|row| &row[t.p0..t.p1])
                        .copied()
                        .collect();
                    assert_eq!(slot, expected.as_slice(), "{band:?} {t:?}");
                }
                assert!(slots.is_empty());
            }
        }
        // In one thread every band but each level's first starts in the one before.
        let levels = plan.windows(2).filter(|p| p[0].scale != p[1].scale).count() + 1;
        assert_eq!(copies, plan.len() - levels);
        assert!(copies > 5);
    }

    #[test]
    fn runs_cover_the_plan_in_order_within_levels() {
        for (w, h) in [(3840, 2160), (800, 600), (300, 200)] {
            let plan = plan(w, h, &DetectorOptions::default());
            for workers in [1, 2, 3, 16] {
                let runs = runs(&plan, workers);
                assert_eq!(runs.first().unwrap().start, 0);
                assert_eq!(runs.last().unwrap().end, plan.len());
                for pair in runs.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start);
                }
                for run in &runs {
                    let scale = plan[run.start].scale;
                    assert!(!run.is_empty() && run.len() <= RUN_BANDS);
                    assert!(plan[run.clone()].iter().all(|b| b.scale == scale));
                }
                // No run of the first level is longer than a worker's fair share.
                let level = plan.iter().filter(|b| b.scale == plan[0].scale).count();
                let share = level.div_ceil(workers);
                let first = runs.iter().filter(|r| plan[r.start].scale == plan[0].scale);
                assert!(
                    first.clone().all(|r| r.len() <= share),
                    "{w}x{h}, {workers}"
                );
                assert!(
                    first.count() >= workers.min(level).min(2),
                    "{w}x{h}, {workers}"
                );
            }
        }
    }
}
