//! Analysis entry points: file, encoded bytes, raw pixels, batches, and
//! aligned chips.

use std::ffi::{c_char, CString};
use std::path::PathBuf;

use super::options::{c_path, FacelessPipeline};
use super::result::{faceless_result_free, make_result, FacelessResult};
use super::status::{guard, non_null, set_last_error, Fail, FACELESS_ERR_INTERNAL, FACELESS_OK};
use crate::input::{ImageInput, PixelFormat};
use crate::{BatchMode, ImageAnalysis};

/// Layout of one pixel in a raw buffer; 8 bits per channel. Passed as
/// `int32_t`; other values are `FACELESS_ERR_INVALID_ARGUMENT`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacelessPixelFormat {
    /// Red, green, blue (3 bytes).
    Rgb = 0,
    /// Blue, green, red (3 bytes; OpenCV's default).
    Bgr = 1,
    /// Red, green, blue, alpha (4 bytes; alpha ignored).
    Rgba = 2,
    /// Blue, green, red, alpha (4 bytes; alpha ignored).
    Bgra = 3,
    /// One gray byte.
    Gray8 = 4,
}

/// What a `FacelessImage` holds. Passed as `int32_t`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacelessImageKind {
    /// A file path in `path`.
    File = 0,
    /// Encoded bytes (JPEG, PNG, BMP, WebP, GIF) in `data` / `len`.
    Encoded = 1,
    /// Raw pixels in `data` / `len` with `width`, `height`, `stride`, `format`.
    Pixels = 2,
}

/// One image of a batch (`faceless_analyze_batch`). Fields not used by its
/// `kind` are ignored.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FacelessImage {
    /// A `FacelessImageKind` value.
    pub kind: i32,
    /// FILE: NUL-terminated path.
    pub path: *const c_char,
    /// ENCODED, PIXELS: the bytes.
    pub data: *const u8,
    /// ENCODED, PIXELS: number of bytes at `data`.
    pub len: usize,
    /// PIXELS: width in pixels.
    pub width: u32,
    /// PIXELS: height in pixels.
    pub height: u32,
    /// PIXELS: bytes from the start of one row to the next (at least
    /// width × bytes per pixel).
    pub stride: usize,
    /// PIXELS: a `FacelessPixelFormat` value.
    pub format: i32,
}

unsafe fn pipeline_ref<'a>(p: *const FacelessPipeline) -> Result<&'a FacelessPipeline, Fail> {
    non_null(p, "pipeline")?;
    // SAFETY: a non-NULL handle comes from faceless_pipeline_create.
    Ok(unsafe { &*p })
}

unsafe fn bytes<'a>(data: *const u8, len: usize, name: &'static str) -> Result<&'a [u8], Fail> {
    non_null(data, name)?;
    if len == 0 {
        return Err(Fail::Invalid(format!("`{name}` has length 0")));
    }
    if len > isize::MAX as usize {
        return Err(Fail::Invalid(format!(
            "`{name}` length {len} is not a valid buffer size"
        )));
    }
    // SAFETY: the caller passes `len` readable bytes at `data`.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

unsafe fn file(path: *const c_char) -> Result<PathBuf, Fail> {
    non_null(path, "path")?;
    let p = unsafe { c_path(path) };
    if p.as_os_str().is_empty() {
        return Err(Fail::Invalid("`path` is empty".into()));
    }
    Ok(p)
}

impl FacelessPixelFormat {
    /// The format with this C code, if any. (The code belongs to the C ABI,
    /// so the core's `PixelFormat` does not know it.)
    pub fn from_code(code: i32) -> Option<Self> {
        use FacelessPixelFormat as F;
        [F::Rgb, F::Bgr, F::Rgba, F::Bgra, F::Gray8]
            .into_iter()
            .find(|f| *f as i32 == code)
    }
}

impl From<FacelessPixelFormat> for PixelFormat {
    fn from(f: FacelessPixelFormat) -> Self {
        match f {
            FacelessPixelFormat::Rgb => PixelFormat::Rgb,
            FacelessPixelFormat::Bgr => PixelFormat::Bgr,
            FacelessPixelFormat::Rgba => PixelFormat::Rgba,
            FacelessPixelFormat::Bgra => PixelFormat::Bgra,
            FacelessPixelFormat::Gray8 => PixelFormat::Gray8,
        }
    }
}

/// A C pixel format code as the core's [`PixelFormat`].
fn pixel_format(code: i32) -> Result<PixelFormat, Fail> {
    FacelessPixelFormat::from_code(code)
        .map(PixelFormat::from)
        .ok_or_else(|| Fail::Invalid(format!("unknown pixel format {code}")))
}

/// An image argument after pointer checks; a path is owned (converted from
/// the C string), everything else borrows the caller's memory.
enum Arg<'a> {
    File(PathBuf),
    Input(ImageInput<'a>),
}

impl Arg<'_> {
    fn input(&self) -> ImageInput<'_> {
        match self {
            Arg::File(p) => ImageInput::Path(p),
            Arg::Input(i) => *i,
        }
    }
}

unsafe fn pixels<'a>(
    data: *const u8,
    len: usize,
    width: u32,
    height: u32,
    stride: usize,
    format: i32,
) -> Result<Arg<'a>, Fail> {
    let format = pixel_format(format)?;
    Ok(Arg::Input(ImageInput::Pixels {
        data: unsafe { bytes(data, len, "data")? },
        width,
        height,
        stride,
        format,
    }))
}

unsafe fn encoded<'a>(data: *const u8, len: usize) -> Result<Arg<'a>, Fail> {
    Ok(Arg::Input(ImageInput::Encoded(unsafe {
        bytes(data, len, "data")?
    })))
}

unsafe fn image_arg<'a>(img: &FacelessImage) -> Result<Arg<'a>, Fail> {
    match img.kind {
        k if k == FacelessImageKind::File as i32 => Ok(Arg::File(unsafe { file(img.path)? })),
        k if k == FacelessImageKind::Encoded as i32 => unsafe { encoded(img.data, img.len) },
        k if k == FacelessImageKind::Pixels as i32 => unsafe {
            pixels(
                img.data, img.len, img.width, img.height, img.stride, img.format,
            )
        },
        k => Err(Fail::Invalid(format!("unknown image kind {k}"))),
    }
}

/// Runs one image (analysis or aligned classification) and hands the
/// caller a new result.
unsafe fn run_one(
    pipeline: *const FacelessPipeline,
    out: *mut *mut FacelessResult,
    mode: BatchMode,
    arg: impl FnOnce() -> Result<Arg<'static>, Fail>,
) -> i32 {
    guard(|| {
        non_null(out, "out")?;
        // SAFETY: `out` is non-NULL and writable.
        unsafe { out.write(std::ptr::null_mut()) };
        let p = unsafe { pipeline_ref(pipeline)? };
        let analysis = p.inner.run(mode, &arg()?.input())?;
        unsafe { out.write(make_result(&analysis)) };
        Ok(())
    })
}

/// Finds every face in the image file at `path` (JPEG, PNG, BMP, WebP, GIF;
/// EXIF orientation applied) and classifies each. On success `*out` receives
/// a result to free with `faceless_result_free` (with `face_count` 0 when the
/// image has no face); on failure `*out` is NULL.
///
/// Only regular files are read: a FIFO, socket or device is
/// `FACELESS_ERR_IO` without reading a byte (and without blocking), and a
/// file longer than the pipeline's byte limit
/// (`faceless_pipeline_set_input_limits`) is `FACELESS_ERR_IMAGE_TOO_LARGE`
/// without being read.
///
/// Errors: `FACELESS_ERR_NULL_POINTER` (`pipeline`, `path`, `out`),
/// `FACELESS_ERR_INVALID_ARGUMENT` (empty path), `FACELESS_ERR_IO`,
/// `FACELESS_ERR_DECODE`, `FACELESS_ERR_IMAGE_TOO_LARGE`,
/// `FACELESS_ERR_INFERENCE`.
#[no_mangle]
pub unsafe extern "C" fn faceless_analyze_file(
    pipeline: *const FacelessPipeline,
    path: *const c_char,
    out: *mut *mut FacelessResult,
) -> i32 {
    unsafe {
        run_one(pipeline, out, BatchMode::Analyze, || {
            Ok(Arg::File(file(path)?))
        })
    }
}

/// Like `faceless_analyze_file`, for an encoded image (the contents of an
/// image file) of `len` bytes at `data`.
///
/// Decoding follows PIL: gray is replicated, alpha dropped, 16-bit samples
/// keep their high byte, CMYK and YCCK JPEGs are converted with PIL's
/// formula. Unlike PIL, a JPEG whose data ends early, or whose scan is cut by
/// a marker (e.g. a file cut mid-scan with an EOI appended), is
/// `FACELESS_ERR_DECODE`, not an image padded with gray; a header declaring
/// a zero width or height is `FACELESS_ERR_DECODE` too.
///
/// Errors: `FACELESS_ERR_NULL_POINTER` (`pipeline`, `data`, `out`),
/// `FACELESS_ERR_INVALID_ARGUMENT` (`len` 0), `FACELESS_ERR_DECODE` (not an
/// image, truncated, zero size in the header), `FACELESS_ERR_IMAGE_TOO_LARGE`
/// (over `max_pixels`, or a limit of `faceless_pipeline_set_input_limits`),
/// `FACELESS_ERR_INFERENCE`.
#[no_mangle]
pub unsafe extern "C" fn faceless_analyze_encoded(
    pipeline: *const FacelessPipeline,
    data: *const u8,
    len: usize,
    out: *mut *mut FacelessResult,
) -> i32 {
    unsafe { run_one(pipeline, out, BatchMode::Analyze, || encoded(data, len)) }
}

/// Like `faceless_analyze_file`, for raw pixels: `height` rows of `width`
/// pixels in `format` (a `FacelessPixelFormat`), each row starting `stride`
/// bytes after the previous one, in a buffer of `len` bytes at `data`.
/// Packed RGB (`FACELESS_PIXEL_FORMAT_RGB`, `stride` = 3 × `width`) is read
/// where it lies during the call, not copied; other layouts are converted
/// into a copy first.
///
/// Errors: `FACELESS_ERR_NULL_POINTER` (`pipeline`, `data`, `out`),
/// `FACELESS_ERR_INVALID_ARGUMENT` (`len`, `width` or `height` 0; unknown
/// format; `stride` shorter than a row; `len` shorter than
/// `stride` × `height`), `FACELESS_ERR_IMAGE_TOO_LARGE` (`width` × `height`
/// above the pipeline's `max_pixels`), `FACELESS_ERR_INFERENCE`.
#[no_mangle]
pub unsafe extern "C" fn faceless_analyze_pixels(
    pipeline: *const FacelessPipeline,
    data: *const u8,
    len: usize,
    width: u32,
    height: u32,
    stride: usize,
    format: i32,
    out: *mut *mut FacelessResult,
) -> i32 {
    unsafe {
        run_one(pipeline, out, BatchMode::Analyze, || {
            pixels(data, len, width, height, stride, format)
        })
    }
}

/// Analyses `count` images, up to the pipeline's `max_concurrency` at a time
/// in parallel. Prefer `faceless_analyze_images`, whose return value says
/// only whether the call ran and whose outcomes carry each image's message;
/// this older form is kept for compatibility. Writes `results[i]` (a result to free with
/// `faceless_result_free`, or NULL when image `i` failed) and `statuses[i]`
/// (its status) for every `i`, then returns `FACELESS_OK` when every image
/// succeeded, else the status of the first image that failed (the last-error
/// message names it). A `count` of 0 does nothing and returns `FACELESS_OK`.
///
/// Errors of the call itself (nothing written then):
/// `FACELESS_ERR_NULL_POINTER` (`pipeline`, `images`, `results`, `statuses`),
/// `FACELESS_ERR_INVALID_ARGUMENT` (`count` too large to be an array).
#[no_mangle]
pub unsafe extern "C" fn faceless_analyze_batch(
    pipeline: *const FacelessPipeline,
    images: *const FacelessImage,
    count: usize,
    results: *mut *mut FacelessResult,
    statuses: *mut i32,
) -> i32 {
    let mut first_failure: Option<(usize, Fail)> = None;
    let code = guard(|| {
        let p = unsafe { pipeline_ref(pipeline)? };
        if count == 0 {
            return Ok(());
        }
        non_null(images, "images")?;
        non_null(results, "results")?;
        non_null(statuses, "statuses")?;
        if count > isize::MAX as usize / std::mem::size_of::<FacelessImage>() {
            return Err(Fail::Invalid(format!("batch `count` {count} is absurd")));
        }
        // SAFETY: the caller passes `count` elements in each array.
        let images = unsafe { std::slice::from_raw_parts(images, count) };
        let results = unsafe { std::slice::from_raw_parts_mut(results, count) };
        let statuses = unsafe { std::slice::from_raw_parts_mut(statuses, count) };
        results.fill(std::ptr::null_mut());
        statuses.fill(FACELESS_OK);
        each_image(p, images, |i, outcome| match outcome {
            Ok(analysis) => results[i] = make_result(&analysis),
            Err(fail) => {
                statuses[i] = fail.code();
                if first_failure.is_none() {
                    first_failure = Some((i, fail));
                }
            }
        });
        Ok(())
    });
    match (code, first_failure) {
        (FACELESS_OK, Some((i, fail))) => {
            set_last_error(&format!("image {i}: {}", fail.message()));
            fail.code()
        }
        (code, _) => code,
    }
}

/// The outcome of one image of `faceless_analyze_images`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FacelessImageOutcome {
    /// This image's status: `FACELESS_OK`, or why this image failed.
    pub status: i32,
    /// The image's result when `status` is `FACELESS_OK`, else NULL.
    pub result: *mut FacelessResult,
    /// Why the image failed (NUL-terminated UTF-8), NULL when `status` is
    /// `FACELESS_OK`.
    pub message: *mut c_char,
}

/// Analyses `count` images like `faceless_analyze_batch`, up to the
/// pipeline's `max_concurrency` at a time, and writes one outcome per image
/// (its status, its result or its message) to `outcomes[i]`.
///
/// The return value is about the call alone: `FACELESS_OK` means the call
/// ran and wrote every outcome, however many images failed. Free what the
/// outcomes hold with `faceless_image_outcomes_free` (which may be called
/// on any outcome array this function wrote, and twice). A `count` of 0
/// does nothing and returns `FACELESS_OK`.
///
/// Errors of the call itself (nothing written then):
/// `FACELESS_ERR_NULL_POINTER` (`pipeline`, `images`, `outcomes`),
/// `FACELESS_ERR_INVALID_ARGUMENT` (`count` too large to be an array);
/// `FACELESS_ERR_INTERNAL` (a bug; the outcomes not reached say so too).
#[no_mangle]
pub unsafe extern "C" fn faceless_analyze_images(
    pipeline: *const FacelessPipeline,
    images: *const FacelessImage,
    count: usize,
    outcomes: *mut FacelessImageOutcome,
) -> i32 {
    guard(|| {
        let p = unsafe { pipeline_ref(pipeline)? };
        if count == 0 {
            return Ok(());
        }
        non_null(images, "images")?;
        non_null(outcomes, "outcomes")?;
        let largest =
            std::mem::size_of::<FacelessImage>().max(std::mem::size_of::<FacelessImageOutcome>());
        if count > isize::MAX as usize / largest {
            return Err(Fail::Invalid(format!("batch `count` {count} is absurd")));
        }
        // SAFETY: the caller passes `count` elements in each array.
        let images = unsafe { std::slice::from_raw_parts(images, count) };
        let outcomes = unsafe { std::slice::from_raw_parts_mut(outcomes, count) };
        outcomes.fill(FacelessImageOutcome {
            status: FACELESS_ERR_INTERNAL,
            result: std::ptr::null_mut(),
            message: std::ptr::null_mut(),
        });
        each_image(p, images, |i, outcome| {
            outcomes[i] = match outcome {
                Ok(analysis) => FacelessImageOutcome {
                    status: FACELESS_OK,
                    result: make_result(&analysis),
                    message: std::ptr::null_mut(),
                },
                Err(fail) => FacelessImageOutcome {
                    status: fail.code(),
                    result: std::ptr::null_mut(),
                    message: owned_string(&fail.message()),
                },
            }
        });
        Ok(())
    })
}

/// Frees the results and messages held by `count` outcomes of
/// `faceless_analyze_images` and sets them to NULL, so a second call frees
/// nothing. A NULL `outcomes` is ignored.
#[no_mangle]
pub unsafe extern "C" fn faceless_image_outcomes_free(
    outcomes: *mut FacelessImageOutcome,
    count: usize,
) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if outcomes.is_null() || count == 0 {
            return;
        }
        // SAFETY: the caller passes the `count` outcomes the call wrote.
        let outcomes = unsafe { std::slice::from_raw_parts_mut(outcomes, count) };
        for o in outcomes {
            unsafe { faceless_result_free(std::mem::replace(&mut o.result, std::ptr::null_mut())) };
            let m = std::mem::replace(&mut o.message, std::ptr::null_mut());
            if !m.is_null() {
                // SAFETY: every message comes from `owned_string`.
                drop(unsafe { CString::from_raw(m) });
            }
        }
    }));
}

/// A message the caller owns (freed by `faceless_image_outcomes_free`).
fn owned_string(s: &str) -> *mut c_char {
    CString::new(s.replace('\0', "\\0"))
        .unwrap_or_default()
        .into_raw()
}

/// Converts the C images and runs them through the core's batch; images whose
/// arguments are bad fail alone, before anything runs.
fn each_image(
    p: &FacelessPipeline,
    images: &[FacelessImage],
    mut deliver: impl FnMut(usize, Result<ImageAnalysis, Fail>),
) {
    let mut outcomes: Vec<Option<Result<ImageAnalysis, Fail>>> = Vec::new();
    // The runnable images, with where each sits in the caller's array.
    let mut runnable: Vec<(usize, Arg<'_>)> = Vec::new();
    for (i, img) in images.iter().enumerate() {
        match unsafe { image_arg(img) } {
            Ok(arg) => {
                runnable.push((i, arg));
                outcomes.push(None);
            }
            Err(fail) => outcomes.push(Some(Err(fail))),
        }
    }
    let inputs: Vec<ImageInput<'_>> = runnable.iter().map(|(_, a)| a.input()).collect();
    // Deliver in the caller's order: the bad arguments first in line, then
    // each analysis as it arrives.
    let mut due = 0;
    let mut flush = |outcomes: &mut Vec<Option<Result<ImageAnalysis, Fail>>>| {
        while let Some(slot) = outcomes.get_mut(due) {
            match slot.take() {
                Some(o) => deliver(due, o),
                None => break,
            }
            due += 1;
        }
    };
    flush(&mut outcomes);
    p.inner
        .analyze_batch_each(&inputs, BatchMode::Analyze, |k, outcome| {
            outcomes[runnable[k].0] = Some(outcome.map_err(Fail::from));
            flush(&mut outcomes);
        });
}

/// Classifies one already aligned face chip given as raw pixels (see
/// `faceless_analyze_pixels` for the buffer arguments), without detection.
/// The result holds one face whose box is the whole image, with score 1 and
/// zero landmarks. Chips of any size are resized to the classifier's input.
///
/// Errors: as `faceless_analyze_pixels`.
#[no_mangle]
pub unsafe extern "C" fn faceless_classify_aligned_pixels(
    pipeline: *const FacelessPipeline,
    data: *const u8,
    len: usize,
    width: u32,
    height: u32,
    stride: usize,
    format: i32,
    out: *mut *mut FacelessResult,
) -> i32 {
    unsafe {
        run_one(pipeline, out, BatchMode::ClassifyAligned, || {
            pixels(data, len, width, height, stride, format)
        })
    }
}

/// Like `faceless_classify_aligned_pixels`, for an encoded image of `len`
/// bytes at `data`.
///
/// Errors: as `faceless_analyze_encoded`.
#[no_mangle]
pub unsafe extern "C" fn faceless_classify_aligned_encoded(
    pipeline: *const FacelessPipeline,
    data: *const u8,
    len: usize,
    out: *mut *mut FacelessResult,
) -> i32 {
    unsafe {
        run_one(pipeline, out, BatchMode::ClassifyAligned, || {
            encoded(data, len)
        })
    }
}
