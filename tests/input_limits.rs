//! Input that costs far more than its size: every bomb of issue 11 is built
//! here and must be refused from its header, with the right error, in under
//! 0.2 s and 150 MB of heap (measured by a counting allocator). Also the
//! byte limit, non-regular files and zero-size headers.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use faceless::input::{decode_bytes, decode_bytes_with, decode_path_with, Limits};
use faceless::{Error, ErrorKind};

/// The system allocator, counting bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Tests here measure the process-wide heap: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const MB: usize = 1 << 20;

/// Runs `f`, returning its result, its time and the heap it added at peak.
fn measure<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let out = f();
    let dt = t.elapsed();
    (out, dt, PEAK.load(Ordering::Relaxed) - base)
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// A valid all-black RGB PNG, compressed as hard as deflate can, written a
/// row at a time (never holding the pixels).
fn black_png(w: u32, h: u32) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let row = vec![0u8; 1 + 3 * w as usize]; // filter byte 0, then black
    for _ in 0..h {
        z.write_all(&row).unwrap();
    }
    let idat = z.finish().unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A GIF whose logical screen is `screen` and whose one frame is `frame`
/// pixels (all one colour, LZW-coded by hand).
fn gif(screen: (u16, u16), frame: (u16, u16)) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&screen.0.to_le_bytes());
    g.extend_from_slice(&screen.1.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]); // 2-colour table
    g.push(0x2c);
    for v in [0, 0, frame.0, frame.1] {
        g.extend_from_slice(&v.to_le_bytes());
    }
    // No local table; LZW minimum code size 2; one sub-block: clear, 0, end.
    g.extend_from_slice(&[0, 2, 2, 0x44, 0x01, 0, 0x3b]);
    g
}

/// A small real JPEG whose SOF is patched to declare `w` x `h`: its data
/// holds 8x8 pixels.
fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 100, 50]));
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&img)
        .unwrap();
    let sof = bytes.windows(2).position(|m| m == [0xff, 0xc0]).unwrap();
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// Decodes `bytes` within `limits`; it must fail with `kind` in under
/// 0.2 s and 150 MB. Returns the error.
fn refused(name: &str, bytes: &[u8], limits: &Limits, kind: ErrorKind) -> Error {
    let (result, dt, heap) = measure(|| decode_bytes_with(bytes, limits));
    let err = result.expect_err(name);
    eprintln!(
        "{name}: {} bytes refused in {:.1} ms, {:.2} MB heap: {err}",
        bytes.len(),
        dt.as_secs_f64() * 1e3,
        heap as f64 / MB as f64
    );
    assert_eq!(err.kind(), kind, "{name}: {err}");
    assert!(dt < Duration::from_millis(200), "{name}: took {dt:?}");
    assert!(heap < 150 * MB, "{name}: {} MB", heap / MB);
    err
}

#[test]
fn bombs_are_refused_from_the_header() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let defaults = Limits::default();
    // A caller who raised the pixel limit is still protected by density.
    let raised = Limits::with_max_pixels(400_000_000);

    let gif_bomb = gif((10_000, 10_000), (1, 1));
    assert_eq!(gif_bomb.len(), 35);
    let e = refused(
        "gif 10000x10000 screen",
        &gif_bomb,
        &defaults,
        ErrorKind::ImageTooLarge,
    );
    assert!(
        matches!(e, Error::ImageTooLarge { width: 10_000, .. }),
        "{e}"
    );
    let e = refused(
        "gif, raised limit",
        &gif_bomb,
        &raised,
        ErrorKind::ImageTooLarge,
    );
    assert!(matches!(e, Error::ImplausibleSize { .. }), "{e}");
    // A frame larger than its small screen: the frame is checked too.
    let big_frame = gif((100, 100), (8000, 8000));
    let e = refused(
        "gif 8000x8000 frame",
        &big_frame,
        &defaults,
        ErrorKind::ImageTooLarge,
    );
    assert!(matches!(e, Error::ImageTooLarge { width: 8000, .. }), "{e}");

    let jpeg_bomb = jpeg_declaring(10_000, 10_000);
    assert!(jpeg_bomb.len() < 1000);
    refused(
        "jpeg SOF 10000x10000",
        &jpeg_bomb,
        &defaults,
        ErrorKind::ImageTooLarge,
    );
    let e = refused(
        "jpeg, raised limit",
        &jpeg_bomb,
        &raised,
        ErrorKind::ImageTooLarge,
    );
    assert!(matches!(e, Error::ImplausibleSize { .. }), "{e}");
    // Under the pixel limit, over the density floor: density refuses it.
    let e = refused(
        "jpeg SOF 6000x6000",
        &jpeg_declaring(6000, 6000),
        &defaults,
        ErrorKind::ImageTooLarge,
    );
    assert!(matches!(e, Error::ImplausibleSize { .. }), "{e}");

    let png_100mp = black_png(10_000, 10_000);
    assert!(png_100mp.len() < 400_000, "{}", png_100mp.len());
    refused(
        "png black 10000x10000",
        &png_100mp,
        &defaults,
        ErrorKind::ImageTooLarge,
    );
    refused(
        "png black, raised limit",
        &png_100mp,
        &raised,
        ErrorKind::ImageTooLarge,
    );
    let png_25mp = black_png(5000, 5000);
    assert!(png_25mp.len() < 100_000, "{}", png_25mp.len());
    let e = refused(
        "png black 5000x5000",
        &png_25mp,
        &defaults,
        ErrorKind::ImageTooLarge,
    );
    assert!(matches!(e, Error::ImplausibleSize { .. }), "{e}");

    // With the density check off and the limit raised, the same PNG decodes:
    // the refusals above are the checks, not a broken file.
    let off = Limits {
        max_pixels_per_byte: u64::MAX,
        ..defaults
    };
    let img = decode_bytes_with(&png_25mp, &off).unwrap();
    assert_eq!(img.dimensions(), (5000, 5000));
}

#[test]
fn the_density_check_spares_real_images() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A flat 2000x2000 image is under the floor; noise far above it is
    // dense enough.
    decode_bytes(&black_png(2000, 2000), 0).unwrap();
    for name in [
        "astronaut.png",
        "astronaut.jpg",
        "astronaut.gif",
        "astronaut.webp",
    ] {
        decode_bytes(&std::fs::read(data(name)).unwrap(), 0).unwrap();
    }
}

#[test]
fn byte_limit_on_buffers_and_files() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = std::fs::read(data("astronaut.png")).unwrap();
    let small = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    let err = decode_bytes_with(&bytes, &small).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ImageTooLarge);
    assert!(
        matches!(
            err,
            Error::InputTooLarge {
                max_bytes: 1000,
                ..
            }
        ),
        "{err}"
    );
    let err = decode_path_with(data("astronaut.png"), &small).unwrap_err();
    assert!(matches!(err, Error::InputTooLarge { .. }), "{err}");
    // A 4 GB (sparse) file over the default limit is refused unread.
    let dir = std::env::temp_dir().join(format!("faceless-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.png");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(4 << 30).unwrap();
    let (r, dt, heap) = measure(|| decode_path_with(&big, &Limits::default()));
    let err = r.unwrap_err();
    assert!(matches!(err, Error::InputTooLarge { .. }), "{err}");
    assert!(
        dt < Duration::from_millis(200) && heap < MB,
        "{dt:?} {heap}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_unread() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("faceless-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("x.jpg");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for (path, what) in [
        (fifo.as_path(), "FIFO"),
        ("/dev/zero".as_ref(), "character device"),
    ] {
        let (r, dt, _) = measure(|| decode_path_with(path, &Limits::default()));
        let err = r.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(err.to_string().contains(what), "{err}");
        assert!(dt < Duration::from_millis(200));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn zero_size_headers_and_cut_scans_are_decode_errors() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A lossless WebP declaring the largest size, 16384x16384 (14-bit
    // fields all ones): image-webp computes `(1 + 0x3FFF) & 0x3FFF` and
    // reports 0x0.
    let mut vp8l = vec![0x2f];
    vp8l.extend_from_slice(&0x0FFF_FFFFu32.to_le_bytes());
    vp8l.extend_from_slice(&[0; 11]);
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&(4 + 8 + vp8l.len() as u32).to_le_bytes());
    webp.extend_from_slice(b"WEBPVP8L");
    webp.extend_from_slice(&(vp8l.len() as u32).to_le_bytes());
    webp.extend_from_slice(&vp8l);
    let err = decode_bytes(&webp, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("zero size (0x0)"), "{err}");
    // A JPEG cut mid-scan with its EOI put back: libjpeg would fill the rest
    // with gray (PIL returns that image); Faceless refuses it.
    let jpeg = std::fs::read(data("astronaut.jpg")).unwrap();
    let mut cut = jpeg[..jpeg.len() / 2].to_vec();
    cut.extend_from_slice(&[0xff, 0xd9]);
    let err = decode_bytes(&cut, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
}
