//! Memory returned: after one large image, a pipeline's resident memory goes
//! back to within 20 MB of its steady state for small images (ONNX Runtime's
//! arenas bounded by P-Net's bands and bounded batches, the allocator trimmed
//! after large images, no buffer kept at its largest). Measured on the process's VmRSS;
//! the only test in this binary, so nothing else allocates meanwhile.

#![cfg(target_os = "linux")]

mod common;

use common::*;
use faceless::input::{decode_path, DEFAULT_MAX_PIXELS};
use faceless::Pipeline;
use image::RgbImage;

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

/// A tall noisy image like the 256x65500 JPEG (16.8 MP).
fn tall_noise() -> RgbImage {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    RgbImage::from_fn(256, 65_500, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
    })
}

#[test]
fn a_large_image_does_not_keep_its_memory() {
    let pipeline = Pipeline::builder().max_sessions(1).build().unwrap();
    let small = decode_path(data("astronaut.png"), DEFAULT_MAX_PIXELS).unwrap();
    let mut steady = 0.0f64;
    for _ in 0..4 {
        assert_eq!(pipeline.analyze(&small).unwrap().len(), 1);
        steady = steady.max(rss_mb());
    }
    {
        let big = tall_noise();
        pipeline.analyze(&big).unwrap();
        eprintln!("during the large image: {:.0} MB", rss_mb());
    }
    let mut after = 0.0f64;
    for _ in 0..4 {
        assert_eq!(pipeline.analyze(&small).unwrap().len(), 1);
        after = after.max(rss_mb());
    }
    eprintln!("steady state {steady:.0} MB, after the large image {after:.0} MB");
    assert!(
        after <= steady + 20.0,
        "RSS {after:.0} MB after a large image, {steady:.0} MB before"
    );
}
