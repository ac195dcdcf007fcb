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
    let mut data = Vec::with_capacity(candidates.len() * per);
    let mut kept = Vec::with_capacity(candidates.len());
    let mut scratch = Scratch::default();
    for c in candidates {
        if let Some(region) = crop_region(c, w, h) {
            let start = data.len();
            data.resize(start + per, 0.0);
            area_resize_into(img, region, side, side, &mut data[start..], &mut scratch);
            kept.push(*c);
        }
    }
    (data, kept)
}
