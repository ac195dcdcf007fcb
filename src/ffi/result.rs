//! Caller-owned results: `FacelessResult` and everything it points to live in
//! one allocation freed by `faceless_result_free`.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{Attributes, FaceAnalysis, ImageAnalysis, Prediction};

/// One classifier answer: the most probable class and the probability of
/// every class.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FacelessPrediction {
    /// Index of the most probable class, in `0 .. count`.
    pub index: i32,
    /// Label of the most probable class (e.g. `"female"`, `"29-34"`).
    pub label: *const c_char,
    /// Probability of the most probable class, 0 to 1.
    pub prob: f32,
    /// Number of classes: 12 age groups, 2 genders, 5 ethnicities.
    pub count: usize,
    /// `count` probabilities, summing to 1, in class order.
    pub probs: *const f32,
    /// `count` labels naming `probs`, in class order.
    pub labels: *const *const c_char,
}

/// One face and its attributes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FacelessFace {
    /// 0 .. face_count - 1, in order of decreasing detection score.
    pub id: u32,
    /// `[x1, y1, x2, y2]`: left, top, right, bottom, in image pixels.
    pub bbox: [f32; 4],
    /// Detection confidence, 0 to 1 (1 for an aligned chip).
    pub score: f32,
    /// Left eye, right eye, nose, left and right mouth corner as `[x, y]`
    /// (left and right as seen in the picture); zeros for an aligned chip.
    pub landmarks: [[f32; 2]; 5],
    /// Expected age in years.
    pub age_years: f32,
    /// Age group (12 classes).
    pub age_group: FacelessPrediction,
    /// Gender as annotated in the training data (2 classes).
    pub gender: FacelessPrediction,
    /// Ethnicity as annotated in the training data (5 classes).
    pub ethnicity: FacelessPrediction,
}

/// The analysis of one image. Owned by the caller: free it with
/// `faceless_result_free`. All pointers inside (faces, labels,
/// probabilities) belong to the result and stay valid until it is freed,
/// independently of the pipeline and of later calls.
#[repr(C)]
#[derive(Debug)]
pub struct FacelessResult {
    /// Width of the analysed image in pixels.
    pub width: u32,
    /// Height of the analysed image in pixels.
    pub height: u32,
    /// Number of faces; 0 when none was found.
    pub face_count: usize,
    /// `face_count` faces, best score first; NULL when `face_count` is 0.
    pub faces: *const FacelessFace,
}

/// The allocation behind a `FacelessResult`: the public part first, so the
/// pointer handed out is also a pointer to this.
#[repr(C)]
struct Owned {
    public: FacelessResult,
    faces: Vec<FacelessFace>,
    strings: Vec<CString>,
    floats: Vec<Box<[f32]>>,
    label_lists: Vec<Box<[*const c_char]>>,
}

impl Owned {
    fn string(&mut self, s: &str) -> *const c_char {
        let c = CString::new(s.replace('\0', "")).unwrap_or_default();
        let p = c.as_ptr();
        self.strings.push(c);
        p
    }

    fn prediction(&mut self, p: &Prediction) -> FacelessPrediction {
        let probs: Box<[f32]> = p.probs.clone().into_boxed_slice();
        let probs_ptr = probs.as_ptr();
        let count = probs.len();
        self.floats.push(probs);
        // The core guarantees one label per probability; "" keeps the array
        // `count` long should that ever break.
        let label_ptrs: Box<[*const c_char]> = (0..count)
            .map(|i| self.string(p.labels.get(i).map_or("", String::as_str)))
            .collect();
        let labels_ptr = label_ptrs.as_ptr();
        let label = label_ptrs
            .get(p.index)
            .copied()
            .unwrap_or_else(|| self.string(&p.label));
        self.label_lists.push(label_ptrs);
        FacelessPrediction {
            index: p.index as i32,
            label,
            prob: p.prob,
            count,
            probs: probs_ptr,
            labels: labels_ptr,
        }
    }
}

/// Copies an analysis into a new caller-owned result.
pub(crate) fn make_result(analysis: &ImageAnalysis) -> *mut FacelessResult {
    let faces = &analysis.faces;
    let mut owned = Box::new(Owned {
        public: FacelessResult {
            width: analysis.width,
            height: analysis.height,
            face_count: 0,
            faces: std::ptr::null(),
        },
        faces: Vec::with_capacity(faces.len()),
        strings: Vec::new(),
        floats: Vec::new(),
        label_lists: Vec::new(),
    });
    for f in faces {
        let face = face(&mut owned, f);
        owned.faces.push(face);
    }
    owned.public.face_count = owned.faces.len();
    if !owned.faces.is_empty() {
        owned.public.faces = owned.faces.as_ptr();
    }
    Box::into_raw(owned).cast()
}

fn face(owned: &mut Owned, f: &FaceAnalysis) -> FacelessFace {
    let a: &Attributes = &f.attributes;
    FacelessFace {
        id: f.id as u32,
        bbox: f.face.bbox,
        score: f.face.score,
        landmarks: f.face.landmarks,
        age_years: a.age_years,
        age_group: owned.prediction(&a.age_group),
        gender: owned.prediction(&a.gender),
        ethnicity: owned.prediction(&a.ethnicity),
    }
}

/// Frees a result and everything it points to. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn faceless_result_free(result: *mut FacelessResult) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !result.is_null() {
            // SAFETY: every FacelessResult handed out is the first field of a
            // boxed `Owned` (repr(C)), freed exactly once.
            drop(unsafe { Box::from_raw(result.cast::<Owned>()) });
        }
    }));
}
