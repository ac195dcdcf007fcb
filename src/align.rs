//! Face alignment: warp a detected face so its five landmarks land where
//! they lie on a typical training chip.
//!
//! The classifier was trained on UTKFace's aligned chips. Feeding it a plain
//! box crop would show it faces at other scales, offsets and tilts than it
//! ever saw; instead a similarity transform (rotation, uniform scale,
//! translation: no shear, so faces keep their shape) is fitted by least
//! squares from the detected landmarks to the canonical template stored in
//! the model's manifest, and the chip is resampled through it.

use image::imageops::FilterType;
use std::ops::Deref;

use image::{ImageBuffer, Rgb, RgbImage};

use crate::input::{frame, Frame};

/// `[a, -b, tx; b, a, ty]`: maps source points to chip points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    a: f64,
    b: f64,
    tx: f64,
    ty: f64,
}

impl Similarity {
    /// Least-squares similarity from `src` to `dst` (Umeyama 1991, with the
    /// rotation kept proper: no reflections).
    pub fn fit(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Self> {
        let n = src.len().min(dst.len());
        if n < 2 {
            return None;
        }
        let mean = |p: &[[f32; 2]]| {
            let (sx, sy) = p[..n].iter().fold((0f64, 0f64), |(x, y), q| {
                (x + f64::from(q[0]), y + f64::from(q[1]))
            });
            (sx / n as f64, sy / n as f64)
        };
        let (mx, my) = mean(src);
        let (nx, ny) = mean(dst);
        // For a similarity, the least-squares solution in complex form is
        // (a + ib) = Σ conj(s)·d / Σ |s|², with s, d centred.
        let (mut num_re, mut num_im, mut den) = (0f64, 0f64, 0f64);
        for (s, d) in src[..n].iter().zip(&dst[..n]) {
            let (sx, sy) = (f64::from(s[0]) - mx, f64::from(s[1]) - my);
            let (dx, dy) = (f64::from(d[0]) - nx, f64::from(d[1]) - ny);
            num_re += sx * dx + sy * dy;
            num_im += sx * dy - sy * dx;
            den += sx * sx + sy * sy;
        }
        if den < 1e-9 {
            return None;
        }
        let (a, b) = (num_re / den, num_im / den);
        Some(Similarity {
            a,
            b,
            tx: nx - (a * mx - b * my),
            ty: ny - (b * mx + a * my),
        })
    }

    /// Chip pixels per source pixel.
    pub fn scale(&self) -> f64 {
        self.a.hypot(self.b)
    }

    /// Maps a source point into the chip.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        )
    }

    /// The inverse transform (chip to source).
    pub fn inverse(&self) -> Similarity {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }
}

/// Cuts the aligned chip of size `chip` out of `img`, given the face's
/// landmarks and the template. Outside the image the border pixels are
/// repeated: training chips never show black wedges, and on our UTKFace test
/// split (tools/evaluate_sdk.py) repeating the border instead of black raised
/// the pipeline's gender accuracy from 85.3 % to 88.2 %.
pub fn align<C: Deref<Target = [u8]>>(
    img: &ImageBuffer<Rgb<u8>, C>,
    landmarks: &[[f32; 2]; 5],
    template: &[[f32; 2]; 5],
    chip: (u32, u32),
) -> RgbImage {
    align_frame(&frame(img), landmarks, template, chip)
}

/// [`align`] on borrowed pixels.
pub(crate) fn align_frame(
    img: &Frame<'_>,
    landmarks: &[[f32; 2]; 5],
    template: &[[f32; 2]; 5],
    chip: (u32, u32),
) -> RgbImage {
    let Some(mut t) = Similarity::fit(landmarks, template) else {
        // Degenerate landmarks (all in one point): fall back to a stretch
        // of the whole image rather than failing the whole analysis.
        return image::imageops::resize(img, chip.0, chip.1, FilterType::Triangle);
    };
    // When the face is much larger than the chip, bilinear sampling alone
    // would alias; shrink the face's neighbourhood first with a proper
    // filter so each chip pixel averages the source pixels it covers.
    let mut shrunk = None;
    if t.scale() < 0.5 {
        let inv = t.inverse();
        let corners = [
            (0.0, 0.0),
            (f64::from(chip.0), 0.0),
            (0.0, f64::from(chip.1)),
            (f64::from(chip.0), f64::from(chip.1)),
        ]
        .map(|(u, v)| inv.apply(u, v));
        let clampx = |v: f64| v.clamp(0.0, f64::from(img.width()));
        let clampy = |v: f64| v.clamp(0.0, f64::from(img.height()));
        let x0 = clampx(corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min)).floor();
        let y0 = clampy(corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min)).floor();
        let x1 = clampx(
            corners
                .iter()
                .map(|c| c.0)
                .fold(f64::NEG_INFINITY, f64::max),
        )
        .ceil();
        let y1 = clampy(
            corners
                .iter()
                .map(|c| c.1)
                .fold(f64::NEG_INFINITY, f64::max),
        )
        .ceil();
        if x1 - x0 >= 2.0 && y1 - y0 >= 2.0 {
            let k = t.scale();
            let (cw, ch) = ((x1 - x0) as u32, (y1 - y0) as u32);
            let (nw, nh) = (
                ((f64::from(cw) * k).round() as u32).max(1),
                ((f64::from(ch) * k).round() as u32).max(1),
            );
            let region = (x0 as u32, y0 as u32, cw, ch);
            shrunk = Some(shrink(img, region, nw, nh));
            // Re-express the transform on the shrunken crop.
            let (sx, sy) = (f64::from(nw) / f64::from(cw), f64::from(nh) / f64::from(ch));
            let offset = (x0, y0);
            let s = (sx + sy) / 2.0;
            t = Similarity {
                a: t.a / s,
                b: t.b / s,
                tx: t.tx + (t.a * offset.0 - t.b * offset.1),
                ty: t.ty + (t.b * offset.0 + t.a * offset.1),
            };
        }
    }
    let inv = t.inverse();
    let src = match &shrunk {
        Some(s) => frame(s),
        None => frame(img),
    };
    warp(&src, &inv, chip)
}

/// Bilinear sampling of `src` through `inv` (chip to source) into a
/// `chip`-sized image, edges clamped. Per pixel the same f64 arithmetic as the
/// textbook form (`warp_reference` in the tests), but the four neighbours are
/// read straight from the rows when they lie inside the image, and floor and
/// round are done on integers rather than by libm calls. With AVX2, four
/// pixels go through the same multiplies and adds at once, a channel's four
/// values as the lanes of one vector: IEEE arithmetic per lane, so the same
/// bytes.
fn warp(src: &Frame<'_>, inv: &Similarity, chip: (u32, u32)) -> RgbImage {
    let mut out = vec![0u8; chip.0 as usize * chip.1 as usize * 3];
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { warp_into_avx2(src, inv, chip.0, &mut out) };
        return RgbImage::from_raw(chip.0, chip.1, out).expect("the buffer is chip-sized");
    }
    warp_into(src, inv, chip.0, &mut out, bilinear);
    RgbImage::from_raw(chip.0, chip.1, out).expect("the buffer is chip-sized")
}

/// The source offsets of a chip pixel's four neighbours (top left, top
/// right, bottom left, bottom right) and its fractional position.
type Neighbours = ([usize; 4], f64, f64);

/// Runs `pixel` for every pixel of `out` (rows of `chip_w` RGB pixels).
#[inline(always)]
fn warp_into(
    src: &Frame<'_>,
    inv: &Similarity,
    chip_w: u32,
    out: &mut [u8],
    pixel: impl Fn(&[u8], Neighbours, &mut [u8]),
) {
    let raw: &[u8] = src.as_raw();
    for (v, row) in out.chunks_exact_mut(chip_w as usize * 3).enumerate() {
        for (u, px) in row.chunks_exact_mut(3).enumerate() {
            pixel(raw, neighbours(src, inv, u, v), px);
        }
    }
}

/// Where chip pixel `(u, v)` samples `src` through `inv`: its four
/// neighbours, read straight from the rows when they lie inside the image
/// and clamped to its edge otherwise, and its fractional position.
#[inline(always)]
fn neighbours(src: &Frame<'_>, inv: &Similarity, u: usize, v: usize) -> Neighbours {
    let (w, h) = (i64::from(src.width()), i64::from(src.height()));
    let stride = w as usize * 3;
    // Pixel centres: chip pixel (u, v) covers [u, u+1) × [v, v+1).
    let (x, y) = inv.apply(u as f64 + 0.5, v as f64 + 0.5);
    let (x, y) = (x - 0.5, y - 0.5);
    let (x0, y0) = (floor(x), floor(y));
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let corners = if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
        let i = y0 as usize * stride + x0 as usize * 3;
        [i, i + 3, i + stride, i + stride + 3]
    } else {
        let at = |x: i64, y: i64| {
            (y.clamp(0, h - 1) as usize) * stride + (x.clamp(0, w - 1) as usize) * 3
        };
        [
            at(x0, y0),
            at(x0 + 1, y0),
            at(x0, y0 + 1),
            at(x0 + 1, y0 + 1),
        ]
    };
    (corners, fx, fy)
}

#[inline(always)]
fn bilinear(raw: &[u8], (corners, fx, fy): Neighbours, px: &mut [u8]) {
    let rgb = |i: usize| {
        let p = &raw[i..i + 3];
        [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]
    };
    let [p00, p10, p01, p11] = corners.map(rgb);
    let (gx, gy) = (1.0 - fx, 1.0 - fy);
    for c in 0..3 {
        let top = p00[c] * gx + p10[c] * fx;
        let bottom = p01[c] * gx + p11[c] * fx;
        px[c] = round_to_u8(top * gy + bottom * fy);
    }
}

/// [`warp_into`] with four pixels of a row at a time: their coordinates,
/// neighbours and blends as the four f64 lanes of one vector per channel, in
/// the same operations and order as [`bilinear`] (IEEE arithmetic per lane,
/// so the same bytes). Pixels whose neighbours are not all inside the image,
/// and a row's last few, go through [`pixel_avx2`] one at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn warp_into_avx2(src: &Frame<'_>, inv: &Similarity, chip_w: u32, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let (w, h) = (i64::from(src.width()), i64::from(src.height()));
    let raw: &[u8] = src.as_raw();
    let stride = w as usize * 3;
    let one_pixel = |u: usize, v: usize, px: &mut [u8]| {
        let (corners, fx, fy) = neighbours(src, inv, u, v);
        // SAFETY: AVX2 is enabled on this function; `pixel_avx2` bounds its reads.
        unsafe { pixel_avx2(raw, corners, fx, fy, px) };
    };
    // A pixel's bottom-right neighbour is read as 4 bytes: the last pixel of
    // the image would read one past the end.
    let fits = |i: usize| i + stride + 3 + 4 <= raw.len();
    let (a, b) = (_mm256_set1_pd(inv.a), _mm256_set1_pd(inv.b));
    let (tx, ty) = (_mm256_set1_pd(inv.tx), _mm256_set1_pd(inv.ty));
    let (half, one) = (_mm256_set1_pd(0.5), _mm256_set1_pd(1.0));
    let (zero, top_x, top_y) = (
        _mm256_setzero_pd(),
        _mm256_set1_pd((w - 1) as f64),
        _mm256_set1_pd((h - 1) as f64),
    );
    let byte = _mm_set1_epi32(0xff);
    // The R, G and B bytes of four packed pixels, in the first 12 bytes.
    let pack = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    let steps = _mm256_setr_pd(0.5, 1.5, 2.5, 3.5);
    for (v, row) in out.chunks_exact_mut(chip_w as usize * 3).enumerate() {
        let vv = _mm256_set1_pd(v as f64 + 0.5);
        let (bv, av) = (_mm256_mul_pd(b, vv), _mm256_mul_pd(a, vv));
        let mut u = 0usize;
        while u + 4 <= chip_w as usize {
            let uu = _mm256_add_pd(_mm256_set1_pd(u as f64), steps);
            // Similarity::apply, then the half-pixel shift.
            let x = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(a, uu), bv), tx);
            let y = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(b, uu), av), ty);
            let (x, y) = (_mm256_sub_pd(x, half), _mm256_sub_pd(y, half));
            let x0 = _mm256_round_pd::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(x);
            let y0 = _mm256_round_pd::<{ _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC }>(y);
            // Inside: 0 <= x0 < w - 1 and 0 <= y0 < h - 1 (false for NaN).
            let inside = _mm256_and_pd(
                _mm256_and_pd(
                    _mm256_cmp_pd::<_CMP_GE_OQ>(x0, zero),
                    _mm256_cmp_pd::<_CMP_LT_OQ>(x0, top_x),
                ),
                _mm256_and_pd(
                    _mm256_cmp_pd::<_CMP_GE_OQ>(y0, zero),
                    _mm256_cmp_pd::<_CMP_LT_OQ>(y0, top_y),
                ),
            );
            let px = &mut row[u * 3..u * 3 + 12];
            let idx = if _mm256_movemask_pd(inside) == 0b1111 {
                let mut xs = [0i32; 4];
                let mut ys = [0i32; 4];
                _mm_storeu_si128(xs.as_mut_ptr().cast(), _mm256_cvttpd_epi32(x0));
                _mm_storeu_si128(ys.as_mut_ptr().cast(), _mm256_cvttpd_epi32(y0));
                Some(std::array::from_fn::<usize, 4, _>(|k| {
                    ys[k] as usize * stride + xs[k] as usize * 3
                }))
            } else {
                None
            };
            let Some(idx) = idx.filter(|i| i.iter().all(|&i| fits(i))) else {
                for (k, p) in px.chunks_exact_mut(3).enumerate() {
                    one_pixel(u + k, v, p);
                }
                u += 4;
                continue;
            };
            let (fx, fy) = (_mm256_sub_pd(x, x0), _mm256_sub_pd(y, y0));
            let (gx, gy) = (_mm256_sub_pd(one, fx), _mm256_sub_pd(one, fy));
            let word = |off: usize| {
                let get = |k: usize| {
                    let i = idx[k] + off;
                    i32::from_le_bytes(raw[i..i + 4].try_into().expect("four bytes"))
                };
                _mm_setr_epi32(get(0), get(1), get(2), get(3))
            };
            let corners = [word(0), word(3), word(stride), word(stride + 3)];
            let mut rgb = _mm_setzero_si128();
            for c in 0..3 {
                let lane = |q: __m128i| {
                    let shifted = match c {
                        0 => q,
                        1 => _mm_srli_epi32::<8>(q),
                        _ => _mm_srli_epi32::<16>(q),
                    };
                    _mm256_cvtepi32_pd(_mm_and_si128(shifted, byte))
                };
                let [p00, p10, p01, p11] = corners.map(lane);
                let top = _mm256_add_pd(_mm256_mul_pd(p00, gx), _mm256_mul_pd(p10, fx));
                let bottom = _mm256_add_pd(_mm256_mul_pd(p01, gx), _mm256_mul_pd(p11, fx));
                let val = _mm256_add_pd(_mm256_mul_pd(top, gy), _mm256_mul_pd(bottom, fy));
                // round_to_u8: truncate, add one where the remainder is at least a half.
                let t = _mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(val);
                let up = _mm256_cmp_pd::<_CMP_GE_OQ>(_mm256_sub_pd(val, t), half);
                let r = _mm256_add_pd(t, _mm256_and_pd(up, one));
                let r = _mm256_min_pd(_mm256_max_pd(r, zero), _mm256_set1_pd(255.0));
                let ch = _mm256_cvttpd_epi32(r);
                rgb = _mm_or_si128(
                    rgb,
                    match c {
                        0 => ch,
                        1 => _mm_slli_epi32::<8>(ch),
                        _ => _mm_slli_epi32::<16>(ch),
                    },
                );
            }
            let mut bytes = [0u8; 16];
            _mm_storeu_si128(bytes.as_mut_ptr().cast(), _mm_shuffle_epi8(rgb, pack));
            px.copy_from_slice(&bytes[..12]);
            u += 4;
        }
        for (k, p) in row[u * 3..].chunks_exact_mut(3).enumerate() {
            one_pixel(u + k, v, p);
        }
    }
}

/// [`bilinear`] with the channels as the lanes of one f64 vector (the
/// fourth lane is the next byte, computed and dropped).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pixel_avx2(raw: &[u8], corners: [usize; 4], fx: f64, fy: f64, px: &mut [u8]) {
    use std::arch::x86_64::*;
    let load = |i: usize| {
        let mut b = [0u8; 4];
        if i + 4 <= raw.len() {
            b.copy_from_slice(&raw[i..i + 4]);
        } else {
            b[..3].copy_from_slice(&raw[i..i + 3]);
        }
        _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(i32::from_le_bytes(b))))
    };
    let [p00, p10, p01, p11] = corners.map(load);
    let (fx, fy) = (_mm256_set1_pd(fx), _mm256_set1_pd(fy));
    let one = _mm256_set1_pd(1.0);
    let (gx, gy) = (_mm256_sub_pd(one, fx), _mm256_sub_pd(one, fy));
    let top = _mm256_add_pd(_mm256_mul_pd(p00, gx), _mm256_mul_pd(p10, fx));
    let bottom = _mm256_add_pd(_mm256_mul_pd(p01, gx), _mm256_mul_pd(p11, fx));
    let v = _mm256_add_pd(_mm256_mul_pd(top, gy), _mm256_mul_pd(bottom, fy));
    // round_to_u8: truncate, add one where the remainder is at least a half.
    let t = _mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(v);
    let up = _mm256_cmp_pd::<_CMP_GE_OQ>(_mm256_sub_pd(v, t), _mm256_set1_pd(0.5));
    let r = _mm256_add_pd(t, _mm256_and_pd(up, one));
    let r = _mm256_min_pd(_mm256_max_pd(r, _mm256_setzero_pd()), _mm256_set1_pd(255.0));
    let i = _mm256_cvttpd_epi32(r);
    let bytes = _mm_packus_epi16(_mm_packus_epi32(i, i), _mm_setzero_si128());
    px.copy_from_slice(&_mm_cvtsi128_si32(bytes).to_le_bytes()[..3]);
}

/// `x.floor() as i64`, without the libm call.
fn floor(x: f64) -> i64 {
    let t = x as i64;
    t.saturating_sub(i64::from((t as f64) > x))
}

/// `v.round().clamp(0.0, 255.0) as u8` (halves away from zero), without the
/// libm call: a negative or NaN `v` gives 0, as there.
fn round_to_u8(v: f64) -> u8 {
    let t = v as i64;
    (t + i64::from(v - t as f64 >= 0.5)).clamp(0, 255) as u8
}

/// `image::imageops::resize` of the region `(x, y, w, h)` of `img` to `nw ×
/// nh` with the triangle filter: the same weights and the same f32
/// arithmetic in the same order, so the same pixels, without copying the
/// region out or going through its generic per-pixel path (which cost more
/// than the warp itself on a large face). The vertical pass runs over whole
/// rows, each output value still summing its taps in ascending order.
fn shrink(img: &Frame<'_>, (x, y, w, h): (u32, u32, u32, u32), nw: u32, nh: u32) -> RgbImage {
    let stride = img.width() as usize * 3;
    let raw = img.as_raw();
    let row_len = w as usize * 3;
    let mut tmp = vec![0f32; row_len * nh as usize];
    for (out_row, (left, weights)) in tmp.chunks_exact_mut(row_len).zip(taps(h, nh)) {
        for (i, &wt) in weights.iter().enumerate() {
            let start = (y + left + i as u32) as usize * stride + x as usize * 3;
            let src = &raw[start..start + row_len];
            for (t, &p) in out_row.iter_mut().zip(src) {
                *t += f32::from(p) * wt;
            }
        }
    }
    let columns = taps(w, nw);
    let mut out = RgbImage::new(nw, nh);
    for (row, out_row) in tmp
        .chunks_exact(row_len)
        .zip(out.chunks_exact_mut(nw as usize * 3))
    {
        for ((left, weights), px) in columns.iter().zip(out_row.chunks_exact_mut(3)) {
            let mut t = [0f32; 3];
            for (i, &wt) in weights.iter().enumerate() {
                let k = (*left as usize + i) * 3;
                for c in 0..3 {
                    t[c] += row[k + c] * wt;
                }
            }
            for c in 0..3 {
                px[c] = t[c].clamp(0.0, 255.0).round() as u8;
            }
        }
    }
    out
}

/// The triangle filter's taps for each output cell of a `len -> new_len`
/// resize, as `image::imageops::resize` computes them: first source index,
/// and normalised weights.
fn taps(len: u32, new_len: u32) -> Vec<(u32, Vec<f32>)> {
    let ratio = len as f32 / new_len as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = sratio;
    (0..new_len)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - support).floor() as i64).clamp(0, i64::from(len) - 1);
            let right = ((centre + support).ceil() as i64).clamp(left + 1, i64::from(len));
            let centre = centre - 0.5;
            let mut sum = 0.0;
            let mut weights: Vec<f32> = (left..right)
                .map(|i| {
                    let d = ((i as f32 - centre) / sratio).abs();
                    let w = if d < 1.0 { 1.0 - d } else { 0.0 };
                    sum += w;
                    w
                })
                .collect();
            for w in &mut weights {
                *w /= sum;
            }
            (left as u32, weights)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The warp as first written: clamped fetches, libm floor and round.
    fn warp_reference(src: &Frame<'_>, inv: &Similarity, chip: (u32, u32)) -> RgbImage {
        let (w, h) = (src.width() as i64, src.height() as i64);
        let fetch = |x: i64, y: i64| -> [f64; 3] {
            let p = src
                .get_pixel(x.clamp(0, w - 1) as u32, y.clamp(0, h - 1) as u32)
                .0;
            [f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]
        };
        RgbImage::from_fn(chip.0, chip.1, |u, v| {
            let (x, y) = inv.apply(f64::from(u) + 0.5, f64::from(v) + 0.5);
            let (x, y) = (x - 0.5, y - 0.5);
            let (x0, y0) = (x.floor() as i64, y.floor() as i64);
            let (fx, fy) = (x - x0 as f64, y - y0 as f64);
            let (p00, p10, p01, p11) = (
                fetch(x0, y0),
                fetch(x0 + 1, y0),
                fetch(x0, y0 + 1),
                fetch(x0 + 1, y0 + 1),
            );
            let mut out = [0u8; 3];
            for c in 0..3 {
                let top = p00[c] * (1.0 - fx) + p10[c] * fx;
                let bottom = p01[c] * (1.0 - fx) + p11[c] * fx;
                out[c] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
            }
            Rgb(out)
        })
    }

    #[test]
    fn warp_equals_the_reference_inside_and_across_the_edges() {
        let img = RgbImage::from_fn(301, 217, |x, y| {
            Rgb([(x * 5 + y) as u8, (x * y / 3) as u8, ((x ^ y) * 13) as u8])
        });
        let src = frame(&img);
        // Rotated, scaled and shifted chips: inside the image, over its edges
        // and wholly outside it; a half-pixel grid hits exact halves in rounding.
        for (a, b, tx, ty) in [
            (0.5, 0.0, -20.0, -10.0),
            (0.83, 0.31, -60.5, 12.25),
            (1.7, -0.4, 30.0, -200.0),
            (2.0, 0.0, 0.0, 0.0),
            (0.3, 0.2, 150.0, 140.0),
            (1.0, 0.0, 500.0, -400.0),
        ] {
            let t = Similarity { a, b, tx, ty };
            let inv = t.inverse();
            let reference = warp_reference(&src, &inv, (186, 150));
            assert_eq!(warp(&src, &inv, (186, 150)), reference, "{t:?}");
            let mut portable = vec![0u8; 186 * 150 * 3];
            warp_into(&src, &inv, 186, &mut portable, bilinear);
            assert_eq!(portable, reference.into_raw(), "portable {t:?}");
        }
        // The whole image, shifted by under a pixel: the last pixels' neighbours
        // are the image's last bytes.
        for (tx, ty) in [(0.0, 0.0), (-0.25, -0.75), (0.5, 0.5)] {
            let inv = Similarity {
                a: 1.0,
                b: 0.0,
                tx,
                ty,
            };
            let size = (img.width(), img.height());
            assert_eq!(warp(&src, &inv, size), warp_reference(&src, &inv, size));
        }
        for v in [
            -3.7,
            -0.5,
            -0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            254.5,
            255.2,
            300.0,
            f64::NAN,
        ] {
            assert_eq!(round_to_u8(v), v.round().clamp(0.0, 255.0) as u8, "{v}");
        }
        for x in [
            -2.5,
            -1.0,
            -0.2,
            -0.0,
            0.0,
            0.7,
            3.0,
            1e300,
            -1e300,
            f64::NAN,
        ] {
            assert_eq!(floor(x), x.floor() as i64, "{x}");
        }
    }

    #[test]
    fn shrink_equals_the_image_crates_triangle_resize() {
        let img = RgbImage::from_fn(517, 389, |x, y| {
            Rgb([
                (x * 7 + y * 3) as u8,
                (x * y / 5) as u8,
                ((x ^ y) * 11) as u8,
            ])
        });
        for (region, nw, nh) in [
            ((0, 0, 517, 389), 100, 80),
            ((31, 17, 400, 300), 97, 151),
            ((100, 50, 250, 250), 60, 60),
            ((5, 9, 333, 201), 250, 150),
        ] {
            let (x, y, w, h) = region;
            let crop = image::imageops::crop_imm(&img, x, y, w, h).to_image();
            let reference = image::imageops::resize(&crop, nw, nh, FilterType::Triangle);
            assert_eq!(
                shrink(&frame(&img), region, nw, nh),
                reference,
                "{region:?} -> {nw}x{nh}"
            );
        }
    }

    #[test]
    fn fit_recovers_a_known_similarity() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 12.0,
            ty: -4.0,
        };
        let src = [
            [10.0, 20.0],
            [50.0, 22.0],
            [30.0, 40.0],
            [15.0, 60.0],
            [45.0, 61.0],
        ];
        let dst = src.map(|p| {
            let (x, y) = truth.apply(f64::from(p[0]), f64::from(p[1]));
            [x as f32, y as f32]
        });
        let t = Similarity::fit(&src, &dst).unwrap();
        assert!((t.a - 0.8).abs() < 1e-5 && (t.b - 0.3).abs() < 1e-5);
        assert!((t.tx - 12.0).abs() < 1e-3 && (t.ty + 4.0).abs() < 1e-3);
        let (x, y) = t.inverse().apply(dst[2][0].into(), dst[2][1].into());
        assert!((x - 30.0).abs() < 1e-3 && (y - 40.0).abs() < 1e-3);
        assert!(Similarity::fit(&[[1.0, 1.0]; 5], &dst).is_none());
    }

    #[test]
    fn identity_alignment_copies_pixels() {
        let img = RgbImage::from_fn(40, 40, |x, y| Rgb([x as u8 * 5, y as u8 * 5, 7]));
        let lm = [
            [10.0, 12.0],
            [30.0, 12.0],
            [20.0, 20.0],
            [12.0, 30.0],
            [28.0, 30.0],
        ];
        let chip = align(&img, &lm, &lm, (40, 40));
        assert_eq!(chip.get_pixel(17, 23), img.get_pixel(17, 23));
    }

    #[test]
    fn large_faces_are_shrunk_before_sampling() {
        // A 2-pixel checkerboard averages to mid-gray when shrunk 8×.
        let img = RgbImage::from_fn(800, 800, |x, y| {
            if (x / 2 + y / 2) % 2 == 0 {
                Rgb([255; 3])
            } else {
                Rgb([0; 3])
            }
        });
        let template = [
            [30.0, 40.0],
            [70.0, 40.0],
            [50.0, 60.0],
            [35.0, 80.0],
            [65.0, 80.0],
        ];
        let lm = template.map(|p| [p[0] * 8.0, p[1] * 8.0]);
        let chip = align(&img, &lm, &template, (100, 100));
        let v = chip.get_pixel(50, 50).0[0];
        assert!((100..=155).contains(&v), "aliased: {v}");
    }
}
