//! Candidate boxes and the geometry MTCNN applies to them between stages.
//!
//! Every formula follows facenet-pytorch's `detect_face.py`, including its
//! mix of `+1` and no-`+1` widths, because those pixel conventions are what
//! the pretrained regressors were fitted to.

/// A face candidate in original image coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub score: f32,
    /// Box regression offsets predicted by the stage that produced it.
    pub reg: [f32; 4],
}

/// Applies a later stage's regression (widths with `+1`, as `bbreg`).
pub(crate) fn regress(c: &mut Candidate, reg: [f32; 4]) {
    let w = c.x2 - c.x1 + 1.0;
    let h = c.y2 - c.y1 + 1.0;
    c.x1 += reg[0] * w;
    c.y1 += reg[1] * h;
    c.x2 += reg[2] * w;
    c.y2 += reg[3] * h;
}

/// Makes the box square around its centre, on its longer side (`rerec`).
pub(crate) fn square(c: &mut Candidate) {
    let w = c.x2 - c.x1;
    let h = c.y2 - c.y1;
    let l = w.max(h);
    c.x1 = c.x1 + w * 0.5 - l * 0.5;
    c.y1 = c.y1 + h * 0.5 - l * 0.5;
    c.x2 = c.x1 + l;
    c.y2 = c.y1 + l;
}

/// The pixel region a candidate's crop reads: its box truncated to integers
/// and clamped to the image, as `pad` + the `[y-1:ey, x-1:ex]` slice do.
/// Parts outside the image are cut off, not zero-filled: the reference
/// resizes only the visible part. `None` when nothing of it is visible.
pub(crate) fn crop_region(
    c: &Candidate,
    width: u32,
    height: u32,
) -> Option<(usize, usize, usize, usize)> {
    let (w, h) = (width as i64, height as i64);
    let x = (c.x1.trunc() as i64).max(1);
    let y = (c.y1.trunc() as i64).max(1);
    let ex = (c.x2.trunc() as i64).min(w);
    let ey = (c.y2.trunc() as i64).min(h);
    if ey > y - 1 && ex > x - 1 && x - 1 < w && y - 1 < h {
        Some(((x - 1) as usize, (y - 1) as usize, ex as usize, ey as usize))
    } else {
        None
    }
}

/// How overlap is measured in non-maximum suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// Intersection over union with continuous areas (torchvision's `nms`).
    Union,
    /// Intersection over the smaller box, areas counted with `+1` pixels
    /// (MTCNN's "Min" mode, used after O-Net to drop boxes nested in others).
    Min,
}

impl Overlap {
    /// Added to widths and heights: Min mode counts whole pixels (`+1`).
    fn plus(self) -> f32 {
        match self {
            Overlap::Union => 0.0,
            Overlap::Min => 1.0,
        }
    }
}

/// Greedy non-maximum suppression: keeps the best-scoring box, drops those
/// overlapping it by more than `threshold`, repeats. Returns kept indices,
/// best first.
pub(crate) fn nms(boxes: &[Candidate], threshold: f32, mode: Overlap) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| boxes[b].score.total_cmp(&boxes[a].score));
    let sorted = Ranked::new(boxes, &order, mode);
    // In rank order; a box already suppressed may be tested again, which
    // changes nothing and keeps the inner loop free of branches.
    let mut suppressed = vec![false; boxes.len()];
    let mut keep = Vec::new();
    for rank in 0..order.len() {
        if suppressed[rank] {
            continue;
        }
        keep.push(order[rank]);
        sorted.suppress_after(rank, threshold, &mut suppressed[rank + 1..]);
    }
    keep
}

/// The candidates' coordinates and areas in rank order, one array each, so
/// that the overlap of one box with all later ones is a loop the compiler
/// vectorises. The arithmetic is the scalar formula's, operation for
/// operation, so the decisions are the same bit for bit.
struct Ranked {
    x1: Vec<f32>,
    y1: Vec<f32>,
    x2: Vec<f32>,
    y2: Vec<f32>,
    area: Vec<f32>,
    mode: Overlap,
}

impl Ranked {
    fn new(boxes: &[Candidate], order: &[usize], mode: Overlap) -> Self {
        let plus = mode.plus();
        let pick = |f: &dyn Fn(&Candidate) -> f32| order.iter().map(|&i| f(&boxes[i])).collect();
        Ranked {
            x1: pick(&|c| c.x1),
            y1: pick(&|c| c.y1),
            x2: pick(&|c| c.x2),
            y2: pick(&|c| c.y2),
            area: pick(&|c| (c.x2 - c.x1 + plus) * (c.y2 - c.y1 + plus)),
            mode,
        }
    }

    /// Marks every box ranked after `rank` that overlaps box `rank` by more
    /// than `threshold` (`out[k]` is rank `rank + 1 + k`).
    fn suppress_after(&self, rank: usize, threshold: f32, out: &mut [bool]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { self.suppress_after_avx2(rank, threshold, out) };
            return;
        }
        self.suppress_after_portable(rank, threshold, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn suppress_after_avx2(&self, rank: usize, threshold: f32, out: &mut [bool]) {
        self.suppress_after_portable(rank, threshold, out);
    }

    #[inline(always)]
    fn suppress_after_portable(&self, rank: usize, threshold: f32, out: &mut [bool]) {
        let plus = self.mode.plus();
        let (ax1, ay1, ax2, ay2, aa) = (
            self.x1[rank],
            self.y1[rank],
            self.x2[rank],
            self.y2[rank],
            self.area[rank],
        );
        let later = rank + 1..rank + 1 + out.len();
        let (x1, y1) = (&self.x1[later.clone()], &self.y1[later.clone()]);
        let (x2, y2, area) = (
            &self.x2[later.clone()],
            &self.y2[later.clone()],
            &self.area[later],
        );
        for k in 0..out.len() {
            let iw = (ax2.min(x2[k]) - ax1.max(x1[k]) + plus).max(0.0);
            let ih = (ay2.min(y2[k]) - ay1.max(y1[k]) + plus).max(0.0);
            let inter = iw * ih;
            let overlap = match self.mode {
                Overlap::Union => inter / (aa + area[k] - inter),
                Overlap::Min => inter / aa.min(area[k]),
            };
            out[k] |= overlap > threshold;
        }
    }
}

/// Applies P-Net's regression, which the reference scales by widths
/// measured without `+1` (unlike [`regress`]).
pub(crate) fn regress_unit(c: &mut Candidate) {
    let w = c.x2 - c.x1;
    let h = c.y2 - c.y1;
    let r = c.reg;
    c.x1 += r[0] * w;
    c.y1 += r[1] * h;
    c.x2 += r[2] * w;
    c.y2 += r[3] * h;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Candidate {
        Candidate {
            x1,
            y1,
            x2,
            y2,
            score,
            reg: [0.0; 4],
        }
    }

    /// The greedy loop written plainly, one pair at a time.
    fn nms_pairwise(boxes: &[Candidate], threshold: f32, mode: Overlap) -> Vec<usize> {
        let mut order: Vec<usize> = (0..boxes.len()).collect();
        order.sort_by(|&a, &b| boxes[b].score.total_cmp(&boxes[a].score));
        let plus = if mode == Overlap::Min { 1.0 } else { 0.0 };
        let area = |c: &Candidate| (c.x2 - c.x1 + plus) * (c.y2 - c.y1 + plus);
        let mut suppressed = vec![false; boxes.len()];
        let mut keep = Vec::new();
        for (rank, &i) in order.iter().enumerate() {
            if suppressed[i] {
                continue;
            }
            keep.push(i);
            let a = &boxes[i];
            for &j in &order[rank + 1..] {
                let b = &boxes[j];
                let iw = (a.x2.min(b.x2) - a.x1.max(b.x1) + plus).max(0.0);
                let ih = (a.y2.min(b.y2) - a.y1.max(b.y1) + plus).max(0.0);
                let inter = iw * ih;
                let overlap = match mode {
                    Overlap::Union => inter / (area(a) + area(b) - inter),
                    Overlap::Min => inter / area(a).min(area(b)),
                };
                if overlap > threshold {
                    suppressed[j] = true;
                }
            }
        }
        keep
    }

    #[test]
    fn nms_equals_the_pairwise_loop() {
        // Dense clusters of near-duplicates, as P-Net proposes them, plus
        // boxes that only touch, at every threshold MTCNN uses.
        let mut seed = 0x2545_f491_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32
        };
        for round in 0..20 {
            let n = 50 + round * 37;
            let boxes: Vec<Candidate> = (0..n)
                .map(|_| {
                    let (cx, cy) = ((next() * 8.0).floor() * 40.0, (next() * 8.0).floor() * 40.0);
                    let x1 = cx + next() * 12.0;
                    let y1 = cy + next() * 12.0;
                    let side = 12.0 + next() * 40.0;
                    cand(x1, y1, x1 + side, y1 + side * (0.8 + next() * 0.4), next())
                })
                .collect();
            for (t, mode) in [
                (0.5, Overlap::Union),
                (0.7, Overlap::Union),
                (0.7, Overlap::Min),
            ] {
                assert_eq!(
                    nms(&boxes, t, mode),
                    nms_pairwise(&boxes, t, mode),
                    "round {round}"
                );
            }
        }
    }

    #[test]
    fn nms_keeps_best_of_overlapping() {
        let b = [
            cand(0., 0., 10., 10., 0.8),
            cand(1., 1., 11., 11., 0.9),
            cand(50., 50., 60., 60., 0.7),
        ];
        assert_eq!(nms(&b, 0.5, Overlap::Union), vec![1, 2]);
    }

    #[test]
    fn min_mode_drops_nested_boxes() {
        let b = [
            cand(0., 0., 100., 100., 0.9),
            cand(10., 10., 30., 30., 0.95),
        ];
        // IoU is small, but the small box lies wholly inside the big one.
        assert_eq!(nms(&b, 0.7, Overlap::Union).len(), 2);
        assert_eq!(nms(&b, 0.7, Overlap::Min), vec![1]);
    }

    #[test]
    fn square_keeps_centre() {
        let mut c = cand(10., 20., 30., 60., 1.0);
        square(&mut c);
        assert_eq!((c.x1, c.y1, c.x2, c.y2), (0., 20., 40., 60.));
    }

    #[test]
    fn crop_region_clamps() {
        let c = cand(-5.7, 3.2, 20.9, 500.0, 1.0);
        assert_eq!(crop_region(&c, 100, 100), Some((0, 2, 20, 100)));
        assert_eq!(
            crop_region(&cand(200., 200., 300., 300., 1.0), 100, 100),
            None
        );
        assert_eq!(
            crop_region(&cand(-30., -30., -10., -10., 1.0), 100, 100),
            None
        );
    }
}
