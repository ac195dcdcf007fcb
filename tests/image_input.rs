//! Image input: every supported format, EXIF orientation, colour types, raw
//! buffers, and clear errors for bad input.

mod common;

use std::sync::OnceLock;

use common::*;
use faceless::input::{decode_bytes, decode_path, from_raw, PixelFormat, DEFAULT_MAX_PIXELS};
use faceless::{Detector, ErrorKind};

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::builder().build().expect("detector"))
}

fn one_face(name: &str) -> faceless::Face {
    let img = decode_path(data(name), DEFAULT_MAX_PIXELS).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(img.dimensions(), (256, 256), "{name}");
    let faces = detector().detect(&img).unwrap();
    assert_eq!(faces.len(), 1, "{name}: expected the astronaut's face");
    faces[0]
}

#[test]
fn every_format_decodes_to_the_same_face() {
    // Lossless variants hold identical pixels: identical detections.
    let reference = one_face("astronaut.bmp");
    for name in [
        "astronaut.webp",
        "astronaut_rgba.png",
        "astronaut_16bit.png",
    ] {
        assert_eq!(one_face(name), reference, "{name}");
    }
    // Lossy or palette variants: the same face, boxes within a few pixels.
    for name in ["astronaut.jpg", "astronaut.gif", "astronaut_gray.png"] {
        let f = one_face(name);
        assert!(
            iou(f.bbox, reference.bbox) > 0.9,
            "{name}: {f:?} vs {reference:?}"
        );
    }
}

#[test]
fn exif_orientation_is_applied() {
    // Stored rotated with an orientation tag: must give the upright result.
    let upright = one_face("astronaut.jpg");
    let tagged = one_face("astronaut_exif_rot.jpg");
    assert!(
        iou(upright.bbox, tagged.bbox) > 0.95,
        "{upright:?} vs {tagged:?}"
    );
    for (a, b) in upright.landmarks.iter().zip(&tagged.landmarks) {
        assert!((a[0] - b[0]).abs() < 2.0 && (a[1] - b[1]).abs() < 2.0);
    }
}

#[test]
fn gif_uses_its_first_frame() {
    // The file's second frame is flat gray: a face means frame one was read.
    one_face("astronaut.gif");
}

#[test]
fn jpeg_pixels_match_libjpeg_turbo() {
    // tests/golden/astronaut_jpg_pixels: PIL's decode of the same file,
    // summarised as the sum and a few samples (PIL uses libjpeg-turbo).
    let img = decode_path(data("astronaut.jpg"), DEFAULT_MAX_PIXELS).unwrap();
    let sum: u64 = img.as_raw().iter().map(|&v| u64::from(v)).sum();
    let expected: u64 =
        std::fs::read_to_string(repo().join("tests/golden/astronaut_jpg_pixel_sum.txt"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    assert_eq!(sum, expected);
}

#[test]
fn bad_bytes_are_clear_errors() {
    let err = decode_path(data("truncated.jpg"), DEFAULT_MAX_PIXELS).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    let err = decode_path(data("not_an_image.jpg"), DEFAULT_MAX_PIXELS).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    let err = decode_bytes(&[], DEFAULT_MAX_PIXELS).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = decode_path(data("does-not-exist.png"), DEFAULT_MAX_PIXELS).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("does-not-exist.png"));
    // Every prefix of a real file is refused or decoded, never a crash.
    let bytes = std::fs::read(data("astronaut.png")).unwrap();
    for cut in [1, 8, 33, 100, 1000, bytes.len() / 2] {
        assert!(
            decode_bytes(&bytes[..cut], DEFAULT_MAX_PIXELS).is_err(),
            "prefix {cut}"
        );
    }
    // Only the end marker missing: all pixels are there, either answer is fine.
    let _ = decode_bytes(&bytes[..bytes.len() - 1], DEFAULT_MAX_PIXELS);
    // Messages are one line, as they are printed after a file name and
    // returned through the C ABI (the JPEG header reader's end with a newline).
    let jpeg = std::fs::read(data("astronaut.jpg")).unwrap();
    for bytes in [&jpeg[..3], &jpeg[..40], &bytes[..100]] {
        let message = decode_bytes(bytes, DEFAULT_MAX_PIXELS)
            .unwrap_err()
            .to_string();
        assert!(
            !message.contains('\n') && message.trim_end() == message,
            "{message:?}"
        );
    }
}

#[test]
fn pixel_limit_is_checked_before_decoding() {
    let err = decode_path(data("astronaut.png"), 512 * 511).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ImageTooLarge, "{err}");
    decode_path(data("astronaut.png"), 512 * 512).unwrap();
}

#[test]
fn raw_buffers_match_decoded_images() {
    let img = decode_path(data("astronaut.bmp"), DEFAULT_MAX_PIXELS).unwrap();
    let (w, h) = img.dimensions();
    let reference = detector().detect(&img).unwrap();
    // BGRA with 16 bytes of padding per row.
    let stride = w as usize * 4 + 16;
    let mut bgra = vec![0u8; stride * h as usize];
    for (x, y, p) in img.enumerate_pixels() {
        let o = y as usize * stride + x as usize * 4;
        bgra[o..o + 4].copy_from_slice(&[p[2], p[1], p[0], 255]);
    }
    let back = from_raw(&bgra, w, h, stride, PixelFormat::Bgra, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!(back, img);
    assert_eq!(detector().detect(&back).unwrap(), reference);
    // Too-short buffers and strides are refused.
    let err = from_raw(
        &bgra[..bgra.len() - 1],
        w,
        h,
        stride,
        PixelFormat::Bgra,
        DEFAULT_MAX_PIXELS,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = from_raw(
        &bgra,
        w,
        h,
        w as usize * 4 - 1,
        PixelFormat::Bgra,
        DEFAULT_MAX_PIXELS,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn tiny_and_blank_images_have_no_faces() {
    for (w, h) in [(1, 1), (11, 400), (400, 11), (12, 12), (64, 64)] {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128]));
        assert!(detector().detect(&img).unwrap().is_empty(), "{w}x{h}");
    }
}
