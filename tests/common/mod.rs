//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn data(name: &str) -> PathBuf {
    repo().join("tests/data").join(name)
}

/// `../shared/datasets/<rel>`, or `None` (with a message saying the test is
/// skipped) when the shared folder is not beside the checkout.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = repo().join("../shared/datasets").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (tests that need ../shared/datasets skip without it)",
            p.display()
        );
        None
    }
}

pub fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
}

pub struct GoldenFace {
    pub bbox: [f32; 4],
    pub score: f32,
    pub landmarks: [[f32; 2]; 5],
}

pub struct Golden {
    pub image: PathBuf,
    pub width: u32,
    pub height: u32,
    pub faces: Vec<GoldenFace>,
}

pub fn golden(name: &str) -> Golden {
    let path = repo().join("tests/golden").join(format!("{name}.json"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let f = |x: &serde_json::Value| x.as_f64().unwrap() as f32;
    let faces = v["faces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|face| {
            let b = face["box"].as_array().unwrap();
            let l = face["landmarks"].as_array().unwrap();
            GoldenFace {
                bbox: [f(&b[0]), f(&b[1]), f(&b[2]), f(&b[3])],
                score: f(&face["score"]),
                landmarks: std::array::from_fn(|i| [f(&l[i][0]), f(&l[i][1])]),
            }
        })
        .collect();
    Golden {
        image: repo().join(v["image"].as_str().unwrap()),
        width: v["width"].as_u64().unwrap() as u32,
        height: v["height"].as_u64().unwrap() as u32,
        faces,
    }
}

/// Worst IoU and worst landmark distance between the golden faces and ours;
/// panics (with a readable message) when a count differs.
pub fn compare(name: &str, golden: &Golden, ours: &[faceless::Face]) -> (f32, f32) {
    assert_eq!(
        ours.len(),
        golden.faces.len(),
        "{name}: facenet-pytorch found {} faces, we found {}",
        golden.faces.len(),
        ours.len()
    );
    let (w, h) = (golden.width as f32, golden.height as f32);
    let mut worst_iou = 1f32;
    let mut worst_px = 0f32;
    for g in &golden.faces {
        // facenet does not clip; we do. Compare like with like.
        let gb = [
            g.bbox[0].clamp(0.0, w),
            g.bbox[1].clamp(0.0, h),
            g.bbox[2].clamp(0.0, w),
            g.bbox[3].clamp(0.0, h),
        ];
        let best = ours
            .iter()
            .max_by(|a, b| iou(a.bbox, gb).total_cmp(&iou(b.bbox, gb)))
            .unwrap();
        worst_iou = worst_iou.min(iou(best.bbox, gb));
        for (p, q) in g.landmarks.iter().zip(&best.landmarks) {
            let (px, py) = (p[0].clamp(0.0, w), p[1].clamp(0.0, h));
            worst_px = worst_px.max(((px - q[0]).powi(2) + (py - q[1]).powi(2)).sqrt());
        }
    }
    (worst_iou, worst_px)
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
