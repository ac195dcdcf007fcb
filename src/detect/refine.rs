//! Shared by R-Net and O-Net: cut every candidate's region out of the image
//! and resize it to the network's input, all in one batch.

use crate::input::Frame;

use super::boxes::{crop_region, Candidate};
use super::resample::{area_resize_into, Scratch};

/// Builds the `[N, 3, side, side]` batch for the candidates whose region is
/// visible; returns it with the candidates kept (in the same order).
pub(crate) fn crop_batch(
    img: &Frame<'_>,
    candidates: &[Candidate],
    side: usize,
) -> (Vec<f32>, Vec<Candidate>) {
    let (w, h) = img.dimensions();
    let per = 3 * side * side;
    let mut kept = Vec::with_capacity(candidates.len());
    let mut regions = Vec::with_capacity(candidates.len());
    for c in candidates {
        if let Some(region) = crop_region(c, w, h) {
            regions.push((kept.len(), region));
            kept.push(*c);
        }
    }
    // Cut top to bottom, not in score order: overlapping boxes (most of
    // them) then read image rows still in the CPU's caches.
    regions.sort_unstable_by_key(|&(_, (x0, y0, _, _))| (y0, x0));
    let mut data = vec![0.0; kept.len() * per];
    let mut scratch = Scratch::default();
    for (slot, region) in regions {
        let dst = &mut data[slot * per..(slot + 1) * per];
        area_resize_into(img, region, side, side, dst, &mut scratch);
    }
    (data, kept)
}
