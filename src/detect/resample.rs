//! Area resampling into normalised network input.
//!
//! facenet-pytorch resizes both the pyramid levels and the face crops with
//! `torch.nn.functional.interpolate(mode="area")`, which is adaptive average
//! pooling: output cell `i` averages input cells `floor(i·in/out)` up to
//! `ceil((i+1)·in/out)`, all weighted equally. Matching it exactly (rather
//! than using a bilinear or Lanczos resize) is what lets our boxes agree
//! with the reference to a fraction of a pixel.

use crate::input::Frame;

/// MTCNN's input normalisation: (pixel − 127.5) / 128.
const MEAN: f32 = 127.5;
const SCALE: f32 = 0.0078125;

/// The half-open source range that output cell `i` of `out` averages.
#[inline]
fn window(i: usize, input: usize, out: usize) -> (usize, usize) {
    let start = i * input / out;
    let end = ((i + 1) * input).div_ceil(out);
    (start, end.max(start + 1))
}

/// Resizes the region `[x0, x1) × [y0, y1)` of `img` to `out_w × out_h` with
/// area interpolation, normalises it, and writes it planar (C, H, W) into
/// `dst`, which must hold `3 × out_w × out_h` values.
pub(crate) fn area_resize_into(
    img: &Frame<'_>,
    region: (usize, usize, usize, usize),
    out_w: usize,
    out_h: usize,
    dst: &mut [f32],
    scratch: &mut Scratch,
) {
    let plane = out_w * out_h;
    let mut whole = [Part {
        cols: 0..out_w,
        dst: Planes { data: dst, plane },
    }];
    area_resize_rows_into(img, region, (out_w, out_h), 0..out_h, &mut whole, scratch);
}

/// Buffers a caller reuses across resizes: one source row of sums, narrow
/// or wide, and the column windows of each part of the last resize (a
/// pyramid level's bands share them).
#[derive(Default)]
pub(crate) struct Scratch {
    narrow: Vec<u16>,
    wide: Vec<u32>,
    columns: Vec<Columns>,
}

/// Where resized rows go: row after row from the start of `data`, each
/// channel `plane` values after the one before.
pub(crate) struct Planes<'a> {
    pub data: &'a mut [f32],
    pub plane: usize,
}

/// Output columns `cols` of a resize, and where their rows go (rows
/// `cols.len()` values long).
pub(crate) struct Part<'a> {
    pub cols: std::ops::Range<usize>,
    pub dst: Planes<'a>,
}

/// Like [`area_resize_into`], but only output rows `rows`, and of them the
/// columns of each of `parts` (overlapping or not), each
/// written into its own `dst` (`2 × plane + cols.len() × rows.len()` values
/// at least): P-Net's tiles, each resized where its run reads it.
///
/// Window sums are exact integers and each output is one division, so the
/// result is the exact average rounded once (the reference sums in float;
/// the two differ in the last bits only). Rows are summed first, once for
/// all parts over the columns they span together (whole source rows read
/// in order, and the columns that tiles share summed once), and each part's
/// column windows then run once per output row, not per source row.
pub(crate) fn area_resize_rows_into(
    img: &Frame<'_>,
    (x0, y0, x1, y1): (usize, usize, usize, usize),
    (out_w, out_h): (usize, usize),
    rows: std::ops::Range<usize>,
    parts: &mut [Part<'_>],
    scratch: &mut Scratch,
) {
    let (in_w, in_h) = (x1 - x0, y1 - y0);
    debug_assert!(in_w > 0 && in_h > 0 && rows.end <= out_h && !parts.is_empty());
    let stride = img.width() as usize * 3;
    let raw = img.as_raw();
    let Scratch {
        narrow,
        wide,
        columns,
    } = scratch;
    columns.resize_with(parts.len(), Columns::default);
    for (part, columns) in parts.iter().zip(columns.iter_mut()) {
        let (cols, band_h) = (&part.cols, rows.len());
        debug_assert!(!cols.is_empty() && cols.end <= out_w);
        debug_assert!(part.dst.plane >= cols.len() * band_h);
        debug_assert!(part.dst.data.len() >= 2 * part.dst.plane + cols.len() * band_h);
        if columns.key != (in_w, out_w, cols.start, cols.end) {
            columns.reset_part(in_w, out_w, cols.clone());
        }
    }
    // The source columns the parts read together.
    let first = columns.iter().map(|c| c.first).min().unwrap_or(0);
    let end = columns
        .iter()
        .map(|c| c.first + c.span)
        .max()
        .unwrap_or(first);
    let line_len = (end - first) * 3;
    for (by, oy) in rows.enumerate() {
        // Vertical: the row window's sum for every source column; in u16
        // (twice the SIMD lanes) while the window cannot overflow it.
        let (s, e) = window(oy, in_h, out_h);
        let source = |y: usize| {
            let start = (y0 + y) * stride + (x0 + first) * 3;
            &raw[start..start + line_len]
        };
        if e - s <= NARROW_ROWS {
            narrow.clear();
            narrow.resize(line_len, 0);
            for y in s..e {
                add_rows(narrow, source(y));
            }
            average_parts(columns, parts, narrow, first, e - s, by);
        } else {
            wide.clear();
            wide.resize(line_len, 0);
            for y in s..e {
                add_rows(wide, source(y));
            }
            average_parts(columns, parts, wide, first, e - s, by);
        }
    }
}

/// Output row `by` of each part, from the row sums of the source columns
/// from `first` on.
fn average_parts<T: Accumulator>(
    columns: &mut [Columns],
    parts: &mut [Part<'_>],
    row_sums: &[T],
    first: usize,
    rows: usize,
    by: usize,
) {
    for (columns, part) in columns.iter_mut().zip(parts.iter_mut()) {
        let at = (columns.first - first) * 3;
        let sums = &row_sums[at..at + columns.span * 3];
        let width = part.cols.len();
        let dst_row = &mut part.dst.data[by * width..];
        columns.average(sums, rows, part.dst.plane, dst_row);
    }
}

/// Several downscaled versions of the whole image, each as
/// [`area_resize_into`] would make it, from one pass over the image's rows:
/// a pyramid's small levels otherwise each read the whole image again, and
/// that reading, not the arithmetic, is what their resizes cost.
///
/// The pass keeps a running column sum of the rows read so far (in u32,
/// wrapping); a level's row window is the difference of that sum at the
/// window's end and its copy taken at the window's start, exact for any
/// window of fewer than 2^32 / 255 rows, so every window sum, and hence every
/// output value, is the one the row-by-row resize computes.
/// `sizes` are `(width, height)`, none larger than the image; the results are
/// planar, one per size.
pub(crate) fn area_resize_levels(img: &Frame<'_>, sizes: &[(usize, usize)]) -> Vec<Vec<f32>> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    debug_assert!(sizes.iter().all(|&(ws, hs)| ws <= w && hs <= h));
    let line = w * 3;
    let raw = img.as_raw();
    struct Level {
        ws: usize,
        hs: usize,
        out: Vec<f32>,
        columns: Columns,
        /// The running sum at the starts of two consecutive windows, window
        /// `i`'s in `starts[i % 2]`.
        starts: [Vec<u32>; 2],
        /// The next window to finish and the next whose start is to be copied.
        next_row: usize,
        next_start: usize,
    }
    let mut levels: Vec<Level> = sizes
        .iter()
        .map(|&(ws, hs)| {
            let mut columns = Columns::default();
            columns.reset(w, ws);
            Level {
                ws,
                hs,
                out: vec![0.0; 3 * ws * hs],
                columns,
                starts: [vec![0; line], vec![0; line]],
                next_row: 0,
                next_start: 0,
            }
        })
        .collect();
    let mut running = vec![0u32; line];
    let mut window_sums = vec![0u32; line];
    for y in 0..=h {
        // `running` is the sum of rows 0..y here.
        for level in &mut levels {
            // Windows end in increasing order, one at a time when the level
            // is no taller than the image; `starts` holds two windows'.
            while level.next_row < level.hs {
                let (s, e) = window(level.next_row, h, level.hs);
                if e != y {
                    break;
                }
                let start = &level.starts[level.next_row % 2];
                for ((d, &r), &b) in window_sums.iter_mut().zip(&running).zip(start) {
                    // Wrapping: exact for any window under 2^32 / 255 rows.
                    *d = r.wrapping_sub(b);
                }
                let plane = level.ws * level.hs;
                let dst = &mut level.out[level.next_row * level.ws..];
                level.columns.average(&window_sums, e - s, plane, dst);
                level.next_row += 1;
            }
            while level.next_start < level.hs {
                let (s, _) = window(level.next_start, h, level.hs);
                if s != y {
                    break;
                }
                level.starts[level.next_start % 2].copy_from_slice(&running);
                level.next_start += 1;
            }
        }
        if y < h {
            add_rows(&mut running, &raw[y * line..(y + 1) * line]);
        }
    }
    levels.into_iter().map(|l| l.out).collect()
}

/// Most rows whose sum of 8-bit samples fits a u16 (257 × 255 = 65535).
const NARROW_ROWS: usize = 257;

/// A running sum of 8-bit samples: u16 for the row windows that cannot
/// overflow it (twice the SIMD lanes), u32 for the wide ones and the running
/// sums of a [`area_resize_levels`] pass (wrapping: a long image's may pass
/// 2^32, their differences over a window stay exact).
trait Accumulator: Copy + Into<u64> {
    /// Bytes per value (the vector path widens 2-byte values as it loads).
    const BYTES: usize;

    fn add(self, v: u8) -> Self;

    /// The value in f32 (exact: the sums averaged in f32 are below 2^24).
    fn to_f32(self) -> f32;
}

impl Accumulator for u16 {
    const BYTES: usize = 2;

    #[inline(always)]
    fn add(self, v: u8) -> u16 {
        self.wrapping_add(u16::from(v))
    }

    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
}

impl Accumulator for u32 {
    const BYTES: usize = 4;

    #[inline(always)]
    fn add(self, v: u8) -> u32 {
        self.wrapping_add(u32::from(v))
    }

    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
}

/// `acc += row`, element-wise; with AVX-512 or AVX2 where the CPU has it.
fn add_rows<A: Accumulator>(acc: &mut [A], row: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the CPU supports AVX-512BW (checked just above).
            unsafe { add_rows_avx512(acc, row) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { add_rows_avx2(acc, row) };
            return;
        }
    }
    add_rows_portable(acc, row);
}

#[inline(always)]
fn add_rows_portable<A: Accumulator>(acc: &mut [A], row: &[u8]) {
    for (a, &v) in acc.iter_mut().zip(row) {
        *a = a.add(v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
unsafe fn add_rows_avx512<A: Accumulator>(acc: &mut [A], row: &[u8]) {
    add_rows_portable(acc, row);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_rows_avx2<A: Accumulator>(acc: &mut [A], row: &[u8]) {
    add_rows_portable(acc, row);
}

/// Horizontal: the output columns' source windows, and room for one row of
/// their sums.
#[derive(Default)]
struct Columns {
    /// What the windows were made for: input and output widths, and the
    /// output columns' range.
    key: (usize, usize, usize, usize),
    /// How many source columns the windows span, from `first` on.
    span: usize,
    first: usize,
    /// From `first`.
    windows: Vec<(usize, usize)>,
    /// The widest window, in pixels.
    widest: usize,
    widths: Vec<f64>,
    widths32: Vec<f32>,
    /// Each window's first column counted from its group of eight's first
    /// window's, as [`permuted_average_avx2`] takes it.
    group_starts: Vec<i32>,
    /// How many registers of eight columns the widest group of eight
    /// windows reaches over, from its first window's start.
    group_registers: usize,
    /// The row's sums, channel after channel, in f32, each channel
    /// [`PERMUTE_REGISTERS`] × 8 values longer than the row.
    planar: Vec<f32>,
    sums: Vec<f64>,
    sums32: Vec<f32>,
}

/// Integers below this are exact in f32.
const F32_EXACT: u64 = 1 << 24;

impl Columns {
    /// The windows of `in_w` input columns resized to `out_w`, in the
    /// buffers of the previous ones (R-Net and O-Net crops change sizes at
    /// every face).
    fn reset(&mut self, in_w: usize, out_w: usize) {
        self.reset_part(in_w, out_w, 0..out_w);
    }

    /// The windows of output columns `cols` only, counted from the first
    /// one's first input column (P-Net's tiles).
    fn reset_part(&mut self, in_w: usize, out_w: usize, cols: std::ops::Range<usize>) {
        self.key = (in_w, out_w, cols.start, cols.end);
        let first = window(cols.start, in_w, out_w).0;
        self.first = first;
        self.span = window(cols.end - 1, in_w, out_w).1 - first;
        self.windows.clear();
        self.windows.extend(cols.map(|i| {
            let (s, e) = window(i, in_w, out_w);
            (s - first, e - first)
        }));
        self.widest = self.windows.iter().map(|&(s, e)| e - s).max().unwrap_or(1);
        self.widths.clear();
        self.widths
            .extend(self.windows.iter().map(|&(s, e)| (e - s) as f64));
        self.widths32.clear();
        self.widths32
            .extend(self.windows.iter().map(|&(s, e)| (e - s) as f32));
        self.group_starts.clear();
        self.group_registers = 0;
        for group in self.windows.chunks_exact(8) {
            let base = group[0].0;
            self.group_starts
                .extend(group.iter().map(|&(s, _)| (s - base) as i32));
            self.group_registers = self.group_registers.max((group[7].1 - base).div_ceil(8));
        }
        self.sums.resize(3 * self.windows.len(), 0.0);
        self.sums32.resize(3 * self.windows.len(), 0.0);
    }

    /// Each column window's sum over the row sums `row_sums` (of `rows`
    /// rows), averaged and normalised into `dst` (planar, `plane` apart).
    /// The sums are taken first (exact integers), then averaged in one
    /// pass per channel that vectorises: the f64 quotient rounded to f32,
    /// or, when every sum and window area is below 2^24, the f32 quotient,
    /// which is the same value several times faster. An f32 division of
    /// integers exact in f32 is the exact average rounded once; the f64
    /// quotient of such integers cannot fall on an f32 rounding midpoint
    /// unless the exact average does, so rounding it to f32 gives the same.
    fn average<T: Accumulator>(
        &mut self,
        row_sums: &[T],
        rows: usize,
        plane: usize,
        dst: &mut [f32],
    ) {
        let area = (rows * self.widest) as u64;
        if area * 255 < F32_EXACT {
            let mut done = 0;
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above); the
                // windows index `row_sums`, `span` pixels wide, and a group
                // of eight spans at most `group_registers` registers.
                done = match self.group_registers {
                    1 | 2 => unsafe {
                        permuted_average_avx2::<T, 2>(self, row_sums, rows, plane, dst)
                    },
                    3 => unsafe { permuted_average_avx2::<T, 3>(self, row_sums, rows, plane, dst) },
                    4 => unsafe { permuted_average_avx2::<T, 4>(self, row_sums, rows, plane, dst) },
                    5 => unsafe { permuted_average_avx2::<T, 5>(self, row_sums, rows, plane, dst) },
                    6 => unsafe { permuted_average_avx2::<T, 6>(self, row_sums, rows, plane, dst) },
                    _ => 0,
                };
            }
            let (windows, sums, widths) = (&self.windows, &mut self.sums32, &self.widths32);
            average_in(windows, done, row_sums, sums, widths, rows, plane, dst);
        } else {
            let (windows, sums, widths) = (&self.windows, &mut self.sums, &self.widths);
            average_in(windows, 0, row_sums, sums, widths, rows, plane, dst);
        }
    }
}

/// [`Columns::average`] in `F` for the windows from `from` on: `sums` holds
/// three rows of `windows.len()`.
#[allow(clippy::too_many_arguments)]
fn average_in<T: Copy + Into<u64>, F: Average>(
    windows: &[(usize, usize)],
    from: usize,
    row_sums: &[T],
    sums: &mut [F],
    widths: &[F],
    rows: usize,
    plane: usize,
    dst: &mut [f32],
) {
    let out_w = windows.len();
    if from >= out_w {
        return;
    }
    let (red, rest) = sums.split_at_mut(out_w);
    let (green, blue) = rest.split_at_mut(out_w);
    for (ox, &(cs, ce)) in windows.iter().enumerate().skip(from) {
        let acc = window_sum(&row_sums[cs * 3..ce * 3]);
        red[ox] = F::from_count(acc[0]);
        green[ox] = F::from_count(acc[1]);
        blue[ox] = F::from_count(acc[2]);
    }
    for (c, channel) in [&*red, &*green, &*blue].into_iter().enumerate() {
        let out = &mut dst[c * plane + from..c * plane + out_w];
        normalise(
            &channel[from..],
            &widths[from..],
            F::from_count(rows as u64),
            out,
        );
    }
}

/// The most registers of eight columns [`permuted_average_avx2`] reads a
/// group of eight windows from.
const PERMUTE_REGISTERS: usize = 6;

/// [`Columns::average`]'s f32 case for eight windows at a time: the row's sums are laid out channel by channel in f32 first
/// (exact: every window's sum is below 2^24), then each group of eight
/// windows loads the `R` registers of columns it spans and picks each
/// window's `k`-th column out of them with lane permutes (the lanes past a
/// window's width masked off). AVX2 gathers would read one value a lane
/// and cost about as much as the eight loads they replace; a permute is one
/// instruction. Returns how many windows it did (a multiple of 8; the rest are left to
/// the scalar path).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn permuted_average_avx2<T: Accumulator, const R: usize>(
    columns: &mut Columns,
    row_sums: &[T],
    rows: usize,
    plane: usize,
    dst: &mut [f32],
) -> usize {
    use std::arch::x86_64::*;
    debug_assert!(R >= columns.group_registers && R <= PERMUTE_REGISTERS);
    let span = columns.span;
    debug_assert_eq!(row_sums.len(), 3 * span);
    // Room past the row for a group's last registers; what they read there
    // is masked off.
    let stride = span + 8 * PERMUTE_REGISTERS;
    columns.planar.resize(3 * stride, 0.0);
    let (red, rest) = columns.planar.split_at_mut(stride);
    let (green, blue) = rest.split_at_mut(stride);
    let mut p = 0;
    // Eight pixels at a time: their 24 values widened to i32 in three
    // registers, each channel's lanes blended together, then put in order.
    let (first, second, third) = (
        _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5),
        _mm256_setr_epi32(1, 4, 7, 2, 5, 0, 3, 6),
        _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7),
    );
    let load = |at: *const T| {
        if T::BYTES == 2 {
            _mm256_cvtepu16_epi32(_mm_loadu_si128(at.cast()))
        } else {
            _mm256_loadu_si256(at.cast())
        }
    };
    while p + 8 <= span {
        // SAFETY: values 3p .. 3p + 24 are inside `row_sums`.
        let at = row_sums.as_ptr().add(3 * p);
        let (a, b, c) = (load(at), load(at.add(8)), load(at.add(16)));
        // Red is in lanes 0, 3, 6 of a, 1, 4, 7 of b, 2, 5 of c; green and
        // blue one and two lanes on.
        let r = _mm256_blend_epi32::<0b0010_0100>(_mm256_blend_epi32::<0b1001_0010>(a, b), c);
        let g = _mm256_blend_epi32::<0b0010_0100>(_mm256_blend_epi32::<0b1001_0010>(c, a), b);
        let bl = _mm256_blend_epi32::<0b0100_1001>(_mm256_blend_epi32::<0b1001_0010>(a, c), b);
        let put = |v, order, to: &mut [f32]| {
            let v = _mm256_cvtepi32_ps(_mm256_permutevar8x32_epi32(v, order));
            _mm256_storeu_ps(to[p..p + 8].as_mut_ptr(), v);
        };
        put(r, first, red);
        put(g, second, green);
        put(bl, third, blue);
        p += 8;
    }
    for (q, px) in row_sums.chunks_exact(3).enumerate().skip(p) {
        red[q] = px[0].to_f32();
        green[q] = px[1].to_f32();
        blue[q] = px[2].to_f32();
    }
    let n = columns.windows.len() / 8 * 8;
    let rows_f = _mm256_set1_ps(rows as f32);
    let (mean, scale) = (_mm256_set1_ps(MEAN), _mm256_set1_ps(SCALE));
    let planar = columns.planar.as_ptr();
    for j in (0..n).step_by(8) {
        let base = columns.windows[j].0;
        let starts = _mm256_loadu_si256(columns.group_starts.as_ptr().add(j).cast());
        let widths32 = _mm256_loadu_ps(columns.widths32.as_ptr().add(j));
        let widths = _mm256_cvttps_epi32(widths32);
        let area = _mm256_mul_ps(rows_f, widths32);
        for c in 0..3 {
            // SAFETY: base + 8R <= span + 8 · PERMUTE_REGISTERS = stride.
            let from = planar.add(c * stride + base);
            let mut v = [_mm256_setzero_ps(); R];
            for (r, reg) in v.iter_mut().enumerate() {
                *reg = _mm256_loadu_ps(from.add(8 * r));
            }
            let mut acc = _mm256_setzero_ps();
            for k in 0..columns.widest {
                let at = _mm256_add_epi32(starts, _mm256_set1_epi32(k as i32));
                let mut value = _mm256_permutevar8x32_ps(v[0], at);
                for (r, &reg) in v.iter().enumerate().skip(1) {
                    let here = _mm256_cmpgt_epi32(at, _mm256_set1_epi32(8 * r as i32 - 1));
                    let picked = _mm256_permutevar8x32_ps(reg, at);
                    value = _mm256_blendv_ps(value, picked, _mm256_castsi256_ps(here));
                }
                let keep = _mm256_cmpgt_epi32(widths, _mm256_set1_epi32(k as i32));
                acc = _mm256_add_ps(acc, _mm256_and_ps(value, _mm256_castsi256_ps(keep)));
            }
            let avg = _mm256_div_ps(acc, area);
            let out = _mm256_mul_ps(_mm256_sub_ps(avg, mean), scale);
            let d = &mut dst[c * plane + j..c * plane + j + 8];
            _mm256_storeu_ps(d.as_mut_ptr(), out);
        }
    }
    n
}

/// The per-channel sums of interleaved RGB `pixels`. Windows of one to
/// four pixels, most of them (the pyramid's first levels, R-Net's crops),
/// are added without a loop: a third less time than the loop's.
#[inline(always)]
fn window_sum<T: Copy + Into<u64>>(pixels: &[T]) -> [u64; 3] {
    let v = |i: usize| -> u64 { pixels[i].into() };
    match pixels.len() {
        3 => [v(0), v(1), v(2)],
        6 => [v(0) + v(3), v(1) + v(4), v(2) + v(5)],
        9 => [v(0) + v(3) + v(6), v(1) + v(4) + v(7), v(2) + v(5) + v(8)],
        12 => [
            v(0) + v(3) + v(6) + v(9),
            v(1) + v(4) + v(7) + v(10),
            v(2) + v(5) + v(8) + v(11),
        ],
        _ => {
            let mut acc = [0u64; 3];
            for px in pixels.chunks_exact(3) {
                acc[0] += px[0].into();
                acc[1] += px[1].into();
                acc[2] += px[2].into();
            }
            acc
        }
    }
}

/// A type the window averages are computed in: f32 where every sum and
/// window area is exact in it, f64 otherwise.
trait Average: Copy {
    /// An integer sum or count (exact: see [`Columns::average`]).
    fn from_count(n: u64) -> Self;
    /// `sum / (rows · width)`, rounded to f32.
    fn mean(sum: Self, rows: Self, width: Self) -> f32;
}

impl Average for f64 {
    #[inline(always)]
    fn from_count(n: u64) -> f64 {
        n as f64
    }

    #[inline(always)]
    fn mean(sum: f64, rows: f64, width: f64) -> f32 {
        (sum / (rows * width)) as f32
    }
}

impl Average for f32 {
    #[inline(always)]
    fn from_count(n: u64) -> f32 {
        n as f32
    }

    #[inline(always)]
    fn mean(sum: f32, rows: f32, width: f32) -> f32 {
        sum / (rows * width)
    }
}

/// `dst[k] = (sums[k] / (rows · widths[k]) − MEAN) · SCALE`, the mean rounded
/// once to f32; with AVX-512 or AVX2 where the CPU has it.
fn normalise<T: Average>(sums: &[T], widths: &[T], rows: T, dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            unsafe { normalise_avx512(sums, widths, rows, dst) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { normalise_avx2(sums, widths, rows, dst) };
            return;
        }
    }
    normalise_portable(sums, widths, rows, dst);
}

#[inline(always)]
fn normalise_portable<T: Average>(sums: &[T], widths: &[T], rows: T, dst: &mut [f32]) {
    for ((d, &sum), &width) in dst.iter_mut().zip(sums).zip(widths) {
        *d = (T::mean(sum, rows, width) - MEAN) * SCALE;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn normalise_avx512<T: Average>(sums: &[T], widths: &[T], rows: T, dst: &mut [f32]) {
    normalise_portable(sums, widths, rows, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn normalise_avx2<T: Average>(sums: &[T], widths: &[T], rows: T, dst: &mut [f32]) {
    normalise_portable(sums, widths, rows, dst);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::frame;
    use image::RgbImage;

    #[test]
    fn windows_cover_input() {
        // Downscale 5 -> 2: cells [0,3) and [2,5), as adaptive pooling does.
        assert_eq!(window(0, 5, 2), (0, 3));
        assert_eq!(window(1, 5, 2), (2, 5));
        // Upscale 2 -> 4: each source cell used twice.
        assert_eq!(
            (0..4).map(|i| window(i, 2, 4)).collect::<Vec<_>>(),
            vec![(0, 1), (0, 1), (1, 2), (1, 2)]
        );
    }

    #[test]
    fn window_sums_match_a_plain_sum_at_every_width() {
        let row: Vec<u16> = (0..3 * 9).map(|i| (i * 2477 % 65_536) as u16).collect();
        let wide: Vec<u32> = row
            .iter()
            .map(|&v| u32::from(v).wrapping_mul(70_000))
            .collect();
        for start in 0..3 {
            for width in 1..=6 {
                let pixels = &row[3 * start..3 * (start + width)];
                let wide_pixels = &wide[3 * start..3 * (start + width)];
                for c in 0..3 {
                    let plain: u64 = pixels
                        .iter()
                        .skip(c)
                        .step_by(3)
                        .map(|&v| u64::from(v))
                        .sum();
                    assert_eq!(window_sum(pixels)[c], plain, "{start} {width} {c}");
                    let plain: u64 = wide_pixels
                        .iter()
                        .skip(c)
                        .step_by(3)
                        .map(|&v| u64::from(v))
                        .sum();
                    assert_eq!(window_sum(wide_pixels)[c], plain, "{start} {width} {c}");
                }
            }
        }
    }

    /// The whole of `img` (517 × 389) resized alone.
    fn resized(img: &Frame<'_>, ws: usize, hs: usize) -> Vec<f32> {
        let mut out = vec![0f32; 3 * ws * hs];
        let whole = (0, 0, 517, 389);
        area_resize_into(img, whole, ws, hs, &mut out, &mut Scratch::default());
        out
    }

    /// Channel `c`'s exact average over columns `xs..xe` and rows `ys..ye`
    /// of `img`, rounded once to f32 and normalised as the resize does.
    fn exact_output(
        img: &Frame<'_>,
        (xs, xe): (usize, usize),
        (ys, ye): (usize, usize),
        c: usize,
    ) -> f32 {
        let sum: u64 = (ys..ye)
            .flat_map(|y| (xs..xe).map(move |x| (x as u32, y as u32)))
            .map(|(x, y)| u64::from(img.get_pixel(x, y)[c]))
            .sum();
        let mean = (sum as f64 / ((ye - ys) * (xe - xs)) as f64) as f32;
        (mean - MEAN) * SCALE
    }

    /// A 517 × 389 image whose channels vary differently across it.
    fn patterned() -> RgbImage {
        RgbImage::from_fn(517, 389, |x, y| {
            image::Rgb([
                (x * 7 + y * 3) as u8,
                (x * y / 5) as u8,
                ((x ^ y) * 11) as u8,
            ])
        })
    }

    #[test]
    fn levels_in_one_pass_equal_each_resized_alone() {
        let img = patterned();
        let img = frame(&img);
        // Ratios from none to about 1:100, windows overlapping or not.
        let sizes = [
            (517, 389),
            (310, 233),
            (220, 166),
            (97, 73),
            (13, 12),
            (5, 4),
            (1, 1),
        ];
        let levels = area_resize_levels(&img, &sizes);
        for (&(ws, hs), level) in sizes.iter().zip(&levels) {
            let alone = resized(&img, ws, hs);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(level), bits(&alone), "{ws}x{hs}");
        }
    }

    #[test]
    fn f32_and_f64_averages_agree_bit_for_bit() {
        // Every sum for small window areas, then a spread of large ones
        // (areas up to 2^24 / 255), through the dispatched kernels.
        let mut cases: Vec<(u32, u32)> = (1..=40u32)
            .flat_map(|area| (0..=area * 255).map(move |sum| (sum, area)))
            .collect();
        let mut x = 0x9e37_79b9u32;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let area = 1 + x % 65_792;
            cases.push(((x >> 7) % (area * 255 + 1), area));
        }
        for chunk in cases.chunks(1000) {
            let sums64: Vec<f64> = chunk.iter().map(|&(s, _)| f64::from(s)).collect();
            let widths64: Vec<f64> = chunk.iter().map(|&(_, a)| f64::from(a)).collect();
            let sums32: Vec<f32> = chunk.iter().map(|&(s, _)| s as f32).collect();
            let widths32: Vec<f32> = chunk.iter().map(|&(_, a)| a as f32).collect();
            let (mut a, mut b) = (vec![0f32; chunk.len()], vec![0f32; chunk.len()]);
            normalise(&sums64, &widths64, 1.0, &mut a);
            normalise(&sums32, &widths32, 1.0, &mut b);
            for (i, (p, q)) in a.iter().zip(&b).enumerate() {
                assert_eq!(p.to_bits(), q.to_bits(), "sum/area {:?}", chunk[i]);
            }
        }
    }

    #[test]
    fn averages_and_normalises() {
        let img = RgbImage::from_fn(4, 2, |x, _| {
            image::Rgb([if x < 2 { 0 } else { 255 }, 128, 128])
        });
        let img = frame(&img);
        let mut dst = vec![0f32; 3 * 2];
        area_resize_into(&img, (0, 0, 4, 2), 2, 1, &mut dst, &mut Scratch::default());
        assert!((dst[0] - (0.0 - MEAN) * SCALE).abs() < 1e-6);
        assert!((dst[1] - (255.0 - MEAN) * SCALE).abs() < 1e-6);
        assert!((dst[2] - (128.0 - MEAN) * SCALE).abs() < 1e-6);
    }

    #[test]
    fn sums_are_exact_on_both_paths() {
        // 600 rows into 2 (windows of 300 rows: u32 sums) and into 4
        // (150 rows: u16 sums), 40 columns into one window and into 16 (the
        // vector paths); every output is the exact average, rounded once.
        let img = RgbImage::from_fn(40, 600, |x, y| {
            image::Rgb([(x * 6 + y % 7) as u8, (y % 256) as u8, (255 - x) as u8])
        });
        let img = frame(&img);
        for (out_w, out_h) in [(1, 2), (1, 4), (16, 2), (16, 4)] {
            let mut dst = vec![0f32; 3 * out_w * out_h];
            area_resize_into(
                &img,
                (0, 0, 40, 600),
                out_w,
                out_h,
                &mut dst,
                &mut Scratch::default(),
            );
            for oy in 0..out_h {
                let (s, e) = window(oy, 600, out_h);
                for ox in 0..out_w {
                    let (xs, xe) = window(ox, 40, out_w);
                    for c in 0..3 {
                        let got = dst[(c * out_h + oy) * out_w + ox];
                        let exact = exact_output(&img, (xs, xe), (s, e), c);
                        assert_eq!(got, exact, "{out_w}x{out_h} ({ox}, {oy})");
                    }
                }
            }
        }
    }

    #[test]
    fn every_output_is_the_exact_average_rounded_once() {
        // Groups of eight windows spanning one to six registers of columns
        // (the permuted path), with u16 and u32 row sums, and wider groups
        // (the scalar path), through the dispatched code.
        let img = patterned();
        let img = frame(&img);
        for (ws, hs) in [
            (310, 233),
            (120, 90),
            (97, 73),
            (91, 2),
            (200, 1),
            (120, 1),
            (97, 1),
            (50, 1),
            (40, 30),
            (517, 389),
        ] {
            let dst = resized(&img, ws, hs);
            for oy in 0..hs {
                let (ys, ye) = window(oy, 389, hs);
                for ox in 0..ws {
                    let (xs, xe) = window(ox, 517, ws);
                    for c in 0..3 {
                        let got = dst[c * ws * hs + oy * ws + ox];
                        let exact = exact_output(&img, (xs, xe), (ys, ye), c);
                        assert_eq!(got.to_bits(), exact.to_bits(), "{ws}x{hs} {ox},{oy},{c}");
                    }
                }
            }
        }
    }

    #[test]
    fn row_bands_equal_the_whole() {
        let img = RgbImage::from_fn(37, 29, |x, y| {
            image::Rgb([(x * 7 + y * 3) as u8, (x * y) as u8, (x ^ y) as u8])
        });
        let img = frame(&img);
        // One scratch for every size: its column windows follow the widths.
        let mut scratch = Scratch::default();
        for (out_w, out_h) in [(13, 11), (37, 29), (50, 41)] {
            let mut whole = vec![0f32; 3 * out_w * out_h];
            area_resize_into(
                &img,
                (2, 1, 37, 29),
                out_w,
                out_h,
                &mut whole,
                &mut Scratch::default(),
            );
            for band in [0..3, 3..4, 4..out_h] {
                let mut part = vec![0f32; 3 * out_w * band.len()];
                let rows = band.clone();
                let plane = out_w * band.len();
                area_resize_rows_into(
                    &img,
                    (2, 1, 37, 29),
                    (out_w, out_h),
                    rows,
                    &mut [Part {
                        cols: 0..out_w,
                        dst: Planes {
                            data: &mut part,
                            plane,
                        },
                    }],
                    &mut scratch,
                );
                for c in 0..3 {
                    for (i, y) in band.clone().enumerate() {
                        let a = &part[(c * band.len() + i) * out_w..][..out_w];
                        let b = &whole[(c * out_h + y) * out_w..][..out_w];
                        assert_eq!(a, b);
                    }
                }
            }
        }
    }

    #[test]
    fn column_parts_equal_the_whole() {
        let img = RgbImage::from_fn(61, 23, |x, y| {
            image::Rgb([
                (x * 5 + y * 11) as u8,
                (x * y + 3) as u8,
                (x ^ (y * 3)) as u8,
            ])
        });
        let img = frame(&img);
        let mut scratch = Scratch::default();
        // Narrower, as wide as, and wider than the region; parts of one
        // column, the first, the last, and overlapping ones (P-Net's tiles).
        for (out_w, out_h) in [(17, 9), (58, 21), (80, 30)] {
            let mut whole = vec![0f32; 3 * out_w * out_h];
            let region = (3, 1, 61, 23);
            area_resize_into(
                &img,
                region,
                out_w,
                out_h,
                &mut whole,
                &mut Scratch::default(),
            );
            let rows = 2..out_h;
            let check = |cols: &std::ops::Range<usize>, part: &[f32]| {
                let (width, plane) = (cols.len(), cols.len() * rows.len());
                for c in 0..3 {
                    for (i, y) in rows.clone().enumerate() {
                        let a = &part[c * plane + i * width..][..width];
                        let b = &whole[(c * out_h + y) * out_w + cols.start..][..width];
                        assert_eq!(a, b, "{out_w}x{out_h} columns {cols:?} row {y}");
                    }
                }
            };
            let all = [0..1, 0..5, 4..12, 9..out_w, out_w - 1..out_w, 0..out_w];
            // Each part alone, then all of them in one resize.
            for cols in &all {
                let plane = cols.len() * rows.len();
                let mut part = vec![0f32; 3 * plane];
                area_resize_rows_into(
                    &img,
                    region,
                    (out_w, out_h),
                    rows.clone(),
                    &mut [Part {
                        cols: cols.clone(),
                        dst: Planes {
                            data: &mut part,
                            plane,
                        },
                    }],
                    &mut scratch,
                );
                check(cols, &part);
            }
            let mut slots: Vec<Vec<f32>> = all
                .iter()
                .map(|cols| vec![0f32; 3 * cols.len() * rows.len()])
                .collect();
            let mut parts: Vec<Part<'_>> = all
                .iter()
                .zip(slots.iter_mut())
                .map(|(cols, slot)| Part {
                    cols: cols.clone(),
                    dst: Planes {
                        plane: cols.len() * rows.len(),
                        data: slot,
                    },
                })
                .collect();
            area_resize_rows_into(
                &img,
                region,
                (out_w, out_h),
                rows.clone(),
                &mut parts,
                &mut scratch,
            );
            drop(parts);
            for (cols, slot) in all.iter().zip(&slots) {
                check(cols, slot);
            }
        }
    }
}
