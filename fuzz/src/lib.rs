//! The fuzz targets, as plain functions: cargo-fuzz's binaries
//! (`fuzz_targets/`) and the stable fallback (`src/bin/mutate.rs`) call the
//! same code. Each must return for every input without panicking; a panic,
//! a crash or (under libFuzzer) a timeout or memory blow-up is a finding.

use std::ffi::CString;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use faceless::ffi::*;
use faceless::input::{decode_bytes_with, from_raw, Limits, PixelFormat};

/// Small limits, so one execution stays cheap: what they refuse is refused
/// from the header, which is what is being fuzzed.
fn limits() -> Limits {
    Limits {
        max_pixels: 1 << 22,
        max_bytes: 1 << 20,
        ..Limits::default()
    }
}

/// Encoded bytes through every decoder (format guessed from the bytes).
pub fn decode(data: &[u8]) {
    let limits = limits();
    if let Ok(img) = decode_bytes_with(data, &limits) {
        let px = u64::from(img.width()) * u64::from(img.height());
        assert!(px > 0 && px <= limits.max_pixels, "decoded {px} pixels");
    }
}

/// Raw geometry read from the input's first bytes.
struct Raw<'a> {
    width: u32,
    height: u32,
    stride: usize,
    format: i32,
    pixels: &'a [u8],
}

fn raw(data: &[u8]) -> Option<Raw<'_>> {
    if data.len() < 8 {
        return None;
    }
    let u16le = |i: usize| u32::from(u16::from_le_bytes([data[i], data[i + 1]]));
    Some(Raw {
        width: u16le(0) % 1024,
        height: u16le(2) % 1024,
        stride: u16le(4) as usize,
        // 0..=4 are formats; 5..=7 are invalid codes.
        format: i32::from(data[6] % 8),
        pixels: &data[7..],
    })
}

/// Raw pixel buffers: any geometry against any buffer.
pub fn raw_pixels(data: &[u8]) {
    let Some(r) = raw(data) else { return };
    let Some(format) = FacelessPixelFormat::from_code(r.format).map(PixelFormat::from) else {
        return;
    };
    if let Ok(img) = from_raw(r.pixels, r.width, r.height, r.stride, format, 1 << 20) {
        assert_eq!(img.dimensions(), (r.width, r.height));
    }
}

struct Shared(*mut FacelessPipeline);
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

fn options() -> FacelessOptions {
    let mut o = std::mem::MaybeUninit::<FacelessOptions>::uninit();
    unsafe { faceless_options_init(o.as_mut_ptr()) };
    let mut o = unsafe { o.assume_init() };
    o.max_pixels = 1 << 18; // one run stays fast
    o.max_concurrency = 2;
    o.intra_threads = 1;
    o
}

fn create() -> *mut FacelessPipeline {
    let mut p = null_mut();
    let st = unsafe { faceless_pipeline_create(&options(), &mut p) };
    assert_eq!(st, FACELESS_OK, "pipeline_create failed");
    let st = unsafe { faceless_pipeline_set_input_limits(p, 1 << 20, 0) };
    assert_eq!(st, FACELESS_OK);
    p
}

fn pipeline() -> *const FacelessPipeline {
    static P: OnceLock<Shared> = OnceLock::new();
    P.get_or_init(|| Shared(create())).0
}

/// A status from the ABI: documented, never a caught panic.
fn check(st: i32, r: *mut FacelessResult) {
    assert!(
        (FACELESS_OK..=FACELESS_ERR_INFERENCE).contains(&st),
        "status {st}: a panic or an undocumented code"
    );
    assert_eq!(
        st == FACELESS_OK,
        !r.is_null(),
        "status {st} and result disagree"
    );
    if !r.is_null() {
        let res = unsafe { &*r };
        assert!(res.face_count == 0 || !res.faces.is_null());
    }
    unsafe { faceless_result_free(r) };
}

/// The whole C ABI sequence: create (once, and again every 512 inputs with
/// a free), analyse the input as encoded bytes and as raw pixels, as aligned
/// chips, all of it again as one batch, free every result.
pub fn c_abi(data: &[u8]) {
    static N: AtomicUsize = AtomicUsize::new(0);
    if N.fetch_add(1, Ordering::Relaxed) % 512 == 511 {
        let p = create();
        unsafe { faceless_pipeline_free(p) };
    }
    let p = pipeline();
    let mut r = null_mut();
    let st = unsafe { faceless_analyze_encoded(p, data.as_ptr(), data.len(), &mut r) };
    check(st, r);
    let st = unsafe { faceless_classify_aligned_encoded(p, data.as_ptr(), data.len(), &mut r) };
    check(st, r);
    let geometry = raw(data);
    if let Some(g) = &geometry {
        let st = unsafe {
            faceless_analyze_pixels(
                p,
                g.pixels.as_ptr(),
                g.pixels.len(),
                g.width,
                g.height,
                g.stride,
                g.format,
                &mut r,
            )
        };
        check(st, r);
    }
    let missing = CString::new("/nonexistent/faceless-fuzz.png").unwrap();
    let mut images = vec![
        FacelessImage {
            kind: FacelessImageKind::Encoded as i32,
            path: null(),
            data: data.as_ptr(),
            len: data.len(),
            width: 0,
            height: 0,
            stride: 0,
            format: 0,
        },
        FacelessImage {
            kind: FacelessImageKind::File as i32,
            path: missing.as_ptr(),
            data: null(),
            len: 0,
            width: 0,
            height: 0,
            stride: 0,
            format: 0,
        },
        // An unknown kind, from the data.
        FacelessImage {
            kind: i32::from(data.first().copied().unwrap_or(0)),
            path: null(),
            data: data.as_ptr(),
            len: data.len(),
            width: 1,
            height: 1,
            stride: 3,
            format: 0,
        },
    ];
    if let Some(g) = geometry {
        images.push(FacelessImage {
            kind: FacelessImageKind::Pixels as i32,
            path: null(),
            data: g.pixels.as_ptr(),
            len: g.pixels.len(),
            width: g.width,
            height: g.height,
            stride: g.stride,
            format: g.format,
        });
    }
    let mut results = vec![null_mut(); images.len()];
    let mut statuses = vec![-1; images.len()];
    let st = unsafe {
        faceless_analyze_batch(
            p,
            images.as_ptr(),
            images.len(),
            results.as_mut_ptr(),
            statuses.as_mut_ptr(),
        )
    };
    assert!(
        (FACELESS_OK..=FACELESS_ERR_INFERENCE).contains(&st),
        "batch status {st}"
    );
    for (r, s) in results.into_iter().zip(statuses) {
        check(s, r);
    }
}
