//! Parity with the reference: facenet-pytorch 2.6.0's MTCNN on the same
//! weights (golden JSON from tools/make_golden.py). Every reference face must
//! be matched at IoU >= 0.9 with landmarks within 2 px.

mod common;

use std::sync::OnceLock;

use common::*;
use faceless::input::{decode_path, DEFAULT_MAX_PIXELS};
use faceless::Detector;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::builder().build().expect("detector"))
}

fn check(name: &str) -> Option<(f32, f32)> {
    let g = golden(name);
    if !g.image.exists() {
        eprintln!(
            "SKIPPED {name}: {} is absent (needs ../shared beside the checkout)",
            g.image.display()
        );
        return None;
    }
    let img = decode_path(&g.image, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!(img.dimensions(), (g.width, g.height));
    let faces = detector().detect(&img).unwrap();
    let (iou, px) = compare(name, &g, &faces);
    eprintln!(
        "{name}: {} faces, worst IoU {iou:.5}, worst landmark error {px:.4} px",
        faces.len()
    );
    assert!(
        iou >= 0.9,
        "{name}: a reference face is matched only at IoU {iou}"
    );
    assert!(
        px <= 2.0,
        "{name}: a landmark is {px} px from the reference"
    );
    Some((iou, px))
}

#[test]
fn astronaut_matches_reference() {
    let (iou, px) = check("astronaut").expect("committed image");
    // On a clean, committed image the match is near exact.
    assert!(iou > 0.999 && px < 0.05, "iou {iou} px {px}");
}

#[test]
fn astronaut_256_matches_reference() {
    check("astronaut_256").expect("committed image");
}

#[test]
fn cat_has_no_face() {
    check("chelsea").expect("committed image");
    let img = decode_path(data("chelsea.png"), DEFAULT_MAX_PIXELS).unwrap();
    assert!(detector().detect(&img).unwrap().is_empty());
}

#[test]
fn shared_photos_match_reference() {
    for name in [
        "facenet_multiface",
        "frec_two_people",
        "linzaer_9",
        "linzaer_26",
        "mtcnn_ivan",
    ] {
        check(name);
    }
}

#[test]
fn same_input_same_output() {
    let img = decode_path(data("astronaut.png"), DEFAULT_MAX_PIXELS).unwrap();
    let a = detector().detect(&img).unwrap();
    let b = detector().detect(&img).unwrap();
    assert_eq!(a, b);
}

#[test]
fn boxes_are_clipped_and_ordered() {
    let Some(p) = shared("photos/linzaer_26.jpg") else {
        return;
    };
    let img = decode_path(p, DEFAULT_MAX_PIXELS).unwrap();
    let faces = detector().detect(&img).unwrap();
    let (w, h) = (img.width() as f32, img.height() as f32);
    for f in &faces {
        assert!(
            f.bbox[0] >= 0.0 && f.bbox[1] >= 0.0 && f.bbox[2] <= w && f.bbox[3] <= h,
            "{f:?}"
        );
        assert!(f
            .landmarks
            .iter()
            .all(|p| p[0] >= 0.0 && p[1] >= 0.0 && p[0] <= w && p[1] <= h));
    }
    assert!(faces.windows(2).all(|p| p[0].score >= p[1].score));
}

#[test]
fn options_are_honoured_and_validated() {
    let img = decode_path(data("astronaut.png"), DEFAULT_MAX_PIXELS).unwrap();
    // The astronaut's face is ~90 px wide: a 300 px minimum misses it.
    let big = Detector::builder().min_face_size(300.0).build().unwrap();
    assert!(big.detect(&img).unwrap().is_empty());
    // An O-Net threshold above her score rejects her.
    let strict = Detector::builder()
        .thresholds([0.6, 0.7, 0.9999999])
        .build()
        .unwrap();
    assert!(strict.detect(&img).unwrap().is_empty());
    for bad in [
        Detector::builder().min_face_size(0.0),
        Detector::builder().min_face_size(f32::NAN),
        Detector::builder().thresholds([0.6, 1.5, 0.7]),
    ] {
        let err = bad.build().unwrap_err();
        assert_eq!(err.kind(), faceless::ErrorKind::InvalidArgument, "{err}");
    }
}
