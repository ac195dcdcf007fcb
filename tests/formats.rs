//! Colour formats decoded as PIL decodes them: CMYK and YCCK JPEGs, 16-bit
//! PNGs. The PIL outputs are committed beside the inputs
//! (tests/fixtures/formats, made by tools/make_format_fixtures.py), so these
//! tests need no Pillow.

mod common;

use common::*;
use faceless::input::{decode_bytes, decode_path, DEFAULT_MAX_PIXELS};
use image::RgbImage;
use mozjpeg::ColorSpace;

fn fixture(name: &str) -> std::path::PathBuf {
    repo().join("tests/fixtures/formats").join(name)
}

fn decode(name: &str) -> RgbImage {
    decode_path(fixture(name), DEFAULT_MAX_PIXELS).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Mean and largest absolute difference between two images' samples.
fn diff(a: &RgbImage, b: &RgbImage) -> (f64, u8) {
    assert_eq!(a.dimensions(), b.dimensions());
    let d: Vec<u8> = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .collect();
    let mean = d.iter().map(|&v| f64::from(v)).sum::<f64>() / d.len() as f64;
    (mean, d.iter().copied().max().unwrap())
}

#[test]
fn sixteen_bit_pngs_match_pil() {
    for name in ["rgb16", "rgba16"] {
        let ours = decode(&format!("{name}.png"));
        let pil = decode(&format!("{name}.pil.png"));
        assert_eq!(diff(&ours, &pil), (0.0, 0), "{name}: not PIL's pixels");
        // Rounding (v / 257, image-rs's to_rgb8) would differ: the fixture
        // can tell the two rules apart.
        let rounded = image::open(fixture(&format!("{name}.png")))
            .unwrap()
            .to_rgb8();
        let (mean, max) = diff(&rounded, &pil);
        assert!(mean > 0.1 && max == 1, "{name}: {mean} {max}");
    }
}

#[test]
fn cmyk_and_ycck_jpegs_match_pil() {
    // cmyk_pillow.jpg: written by Pillow; cmyk.jpg and ycck.jpg: written by
    // libjpeg's encoders (see below). Same libjpeg-turbo IDCT as PIL, and
    // PIL's colour formula: identical pixels.
    for name in ["cmyk_pillow", "cmyk", "ycck"] {
        let ours = decode(&format!("{name}.jpg"));
        let pil = decode(&format!("{name}.pil.png"));
        assert_eq!(diff(&ours, &pil), (0.0, 0), "{name}");
    }
}

/// A smooth CMYK picture as stored in an Adobe JPEG (inverted: 255 = no ink).
fn stored_cmyk(w: usize, h: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            v.extend_from_slice(&[
                (255 - x * 3) as u8,
                (255 - y * 4) as u8,
                (128 + x + y) as u8,
                (255 - (x + 2 * y) / 2) as u8,
            ]);
        }
    }
    v
}

/// Encodes stored CMYK with libjpeg as `space` (CMYK or YCCK): an Adobe
/// APP14 marker says which.
fn encode(cmyk: &[u8], w: usize, h: usize, space: ColorSpace) -> Vec<u8> {
    let mut c = mozjpeg::Compress::new(ColorSpace::JCS_CMYK);
    c.set_size(w, h);
    c.set_color_space(space);
    c.set_quality(95.0);
    let mut started = c.start_compress(Vec::new()).unwrap();
    started.write_scanlines(cmyk).unwrap();
    started.finish().unwrap()
}

#[test]
fn cmyk_and_ycck_jpegs_made_here_decode_to_pils_colours() {
    let (w, h) = (64usize, 48usize);
    let cmyk = stored_cmyk(w, h);
    // What PIL's formula gives for the exact (unencoded) CMYK values:
    // r = K - muldiv255(255 - C, K), with K and C as stored.
    let muldiv255 = |a: u32, b: u32| {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    };
    let expected: Vec<u8> = cmyk
        .chunks_exact(4)
        .flat_map(|p| {
            let k = u32::from(p[3]);
            [0, 1, 2].map(|i| (k - muldiv255(255 - u32::from(p[i]), k)) as u8)
        })
        .collect();
    let expected = RgbImage::from_raw(w as u32, h as u32, expected).unwrap();
    // The same picture read with ink and paper swapped (no Adobe inversion).
    let swapped: Vec<u8> = stored_cmyk(w, h)
        .chunks_exact(4)
        .flat_map(|p| {
            let k = 255 - u32::from(p[3]);
            [0, 1, 2].map(|i| (k - muldiv255(u32::from(p[i]), k)) as u8)
        })
        .collect();
    let swapped = RgbImage::from_raw(w as u32, h as u32, swapped).unwrap();
    for (name, space) in [
        ("cmyk", ColorSpace::JCS_CMYK),
        ("ycck", ColorSpace::JCS_YCCK),
    ] {
        let bytes = encode(&cmyk, w, h, space);
        if let Some(dir) = std::env::var_os("FACELESS_WRITE_FIXTURES") {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("{name}.jpg")),
                &bytes,
            )
            .unwrap();
        }
        let img =
            decode_bytes(&bytes, DEFAULT_MAX_PIXELS).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (mean, max) = diff(&img, &expected);
        eprintln!("{name}: mean {mean:.2}, max {max} levels from PIL's formula on the source");
        assert!(mean < 1.5 && max <= 8, "{name}: mean {mean}, max {max}");
        let (mean, _) = diff(&img, &swapped);
        assert!(mean > 40.0, "{name}: polarity not told apart ({mean})");
    }
}
