//! `FacelessOptions` and the pipeline handle's life cycle.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use super::status::{guard, non_null, Fail};
use crate::runtime::{ExecutionProvider, RuntimeOptions};
use crate::{ClassifierChoice, DetectorOptions, ModelSource, Pipeline};

/// `FacelessOptions.classifier`: the most accurate classifier (the default).
pub const FACELESS_CLASSIFIER_ACCURATE: u32 = 0;
/// `FacelessOptions.classifier`: the previous classifier, kept because it
/// takes less time and memory per face for somewhat lower accuracy.
pub const FACELESS_CLASSIFIER_FAST: u32 = 1;

/// Options for `faceless_pipeline_create`.
///
/// Always start from `faceless_options_init`, which fills the defaults and
/// `struct_size`, then change the fields you need. The struct only ever grows
/// at its end; `struct_size` tells the library which version of the layout
/// the caller compiled against.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FacelessOptions {
    /// `sizeof(FacelessOptions)` as the caller compiled it; set by
    /// `faceless_options_init`. Smaller than the version-1 fields (up to
    /// `max_concurrency`, or 0) is `FACELESS_ERR_INVALID_ARGUMENT`; fields
    /// beyond it keep their defaults; larger is accepted and the unknown
    /// tail ignored.
    pub struct_size: u32,
    /// Smallest face side looked for, in pixels (default 20).
    pub min_face_size: f32,
    /// P-Net, R-Net and O-Net score thresholds (default 0.6, 0.7, 0.7).
    pub thresholds: [f32; 3],
    /// Threads ONNX Runtime may use inside one model run; 0 (default) means
    /// 1, which is fastest for these small networks: parallelism comes from
    /// `max_concurrency`. Above 1, each of up to `max_concurrency` runs uses
    /// this many threads. No thread spins while idle. Negative is
    /// `FACELESS_ERR_INVALID_ARGUMENT`.
    pub intra_threads: i32,
    /// Execution providers in order of preference, comma separated, case
    /// insensitive: `"cpu"`, `"cuda"`, `"tensorrt"`, `"coreml"`, `"directml"`,
    /// e.g. `"cuda,cpu"`. NULL or `""` (default) means CPU only. An unknown
    /// name is `FACELESS_ERR_INVALID_ARGUMENT`; a provider the loaded runtime
    /// lacks is `FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE`. Copied; need not
    /// outlive the call.
    pub execution_providers: *const c_char,
    /// Path of the ONNX Runtime shared library, or of a folder holding it.
    /// NULL (default): the `ORT_DYLIB_PATH` environment variable (file or
    /// folder), then beside libfaceless, then beside the executable, then
    /// the system loader's search by soname (`LD_LIBRARY_PATH`, ldconfig); a
    /// library found there but unusable is reported on stderr and passed
    /// over. A path given here that cannot be used is `FACELESS_ERR_RUNTIME`. One process loads one runtime: the first
    /// pipeline that loads it decides, later pipelines share it, and a later
    /// path naming another file is `FACELESS_ERR_RUNTIME`.
    pub ort_library_path: *const c_char,
    /// Directory holding `mtcnn/{pnet,rnet,onet}.onnx` and
    /// `classifier/faceless-attributes.{onnx,json}` (for
    /// `FACELESS_CLASSIFIER_FAST`, `classifier-fast/` with the same files;
    /// without it, `FACELESS_ERR_MODEL`); NULL (default) uses the models
    /// built into the library.
    pub model_dir: *const c_char,
    /// Largest image accepted, as width × height; 0 (default) means
    /// 40 000 000. Checked on the size an encoded image's header declares
    /// (and a GIF's first frame), before any pixel is decoded. Larger images
    /// give `FACELESS_ERR_IMAGE_TOO_LARGE`.
    pub max_pixels: u64,
    /// The CPU budget: most threads running models at once. It is the size
    /// of the pipeline's pool of ONNX Runtime session sets: calls in
    /// parallel take one set each (further callers wait), a call also
    /// spreads its image over the sets that are or fall idle, and a batch
    /// call runs this many images at once. Each set costs memory (see
    /// "Memory" above), so this also bounds the footprint. 0 (default) means
    /// the number of CPUs.
    pub max_concurrency: u32,
    /// Which classifier runs: `FACELESS_CLASSIFIER_ACCURATE` (0, default)
    /// or `FACELESS_CLASSIFIER_FAST` (1), which takes less time and memory
    /// per face for somewhat lower accuracy (MODEL_CARD.md, "Accuracy against
    /// cost"). Both are built into the library. Any other value is
    /// `FACELESS_ERR_INVALID_ARGUMENT`. A `struct_size` that ends before
    /// this field means accurate. On 64-bit targets the field fills what
    /// was the tail padding of the version-1 layout, so `sizeof` did not
    /// change.
    pub classifier: u32,
}

/// Where the version-1 fields end: the smallest `struct_size` accepted.
pub(crate) const OPTIONS_V1_SIZE: usize = std::mem::offset_of!(FacelessOptions, classifier);

// `faceless_options_init` writes a whole `FacelessOptions` into memory sized
// by the caller's header: a field that made the struct larger than the
// version-1 layout was (64 bytes on 64-bit targets) would overrun callers
// built against that layout.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<FacelessOptions>() == 64);

impl Default for FacelessOptions {
    fn default() -> Self {
        let det = DetectorOptions::default();
        FacelessOptions {
            struct_size: std::mem::size_of::<FacelessOptions>() as u32,
            min_face_size: det.min_face_size,
            thresholds: det.thresholds,
            intra_threads: 0,
            execution_providers: std::ptr::null(),
            ort_library_path: std::ptr::null(),
            model_dir: std::ptr::null(),
            max_pixels: 0,
            max_concurrency: 0,
            classifier: FACELESS_CLASSIFIER_ACCURATE,
        }
    }
}

/// An analysis pipeline: detector, aligner and classifier with their ONNX
/// Runtime sessions. Opaque; create with `faceless_pipeline_create`, free with
/// `faceless_pipeline_free`. One handle may be shared by any number of threads.
pub struct FacelessPipeline {
    pub(crate) inner: Pipeline,
}

/// Fills `*options` with the defaults and sets `struct_size`. Does nothing
/// when `options` is NULL.
#[no_mangle]
pub unsafe extern "C" fn faceless_options_init(options: *mut FacelessOptions) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !options.is_null() {
            // SAFETY: the caller passes a writable FacelessOptions.
            unsafe { options.write(FacelessOptions::default()) };
        }
    }));
}

/// A C string argument as UTF-8 text, or `None` when NULL.
pub(crate) unsafe fn opt_str(p: *const c_char, name: &str) -> Result<Option<&str>, Fail> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller passes a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(Some)
        .map_err(|_| Fail::Invalid(format!("`{name}` is not valid UTF-8")))
}

/// A C string argument as a path (any bytes on Unix).
pub(crate) unsafe fn c_path(p: *const c_char) -> PathBuf {
    // SAFETY: the caller passes a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(s.to_bytes()))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(s.to_string_lossy().into_owned())
    }
}

fn parse_providers(list: Option<&str>) -> Result<Vec<ExecutionProvider>, Fail> {
    let mut out = Vec::new();
    for name in list.unwrap_or("").split(',') {
        if name.trim().is_empty() {
            continue;
        }
        let p = ExecutionProvider::from_name(name)?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The caller's options: its first `struct_size` bytes over the defaults.
unsafe fn read_options(options: *const FacelessOptions) -> Result<FacelessOptions, Fail> {
    let mut o = FacelessOptions::default();
    if options.is_null() {
        return Ok(o);
    }
    // SAFETY: the caller passes a readable FacelessOptions of at least
    // struct_size bytes; we check that covers version 1 before reading past
    // the first field, and read no further than it says.
    let size = unsafe { std::ptr::addr_of!((*options).struct_size).read_unaligned() } as usize;
    if size < OPTIONS_V1_SIZE {
        return Err(Fail::Invalid(format!(
            "options.struct_size is {size}; expected at least {OPTIONS_V1_SIZE} \
             (call faceless_options_init first)"
        )));
    }
    let n = size.min(std::mem::size_of::<FacelessOptions>());
    unsafe {
        std::ptr::copy_nonoverlapping(
            options.cast::<u8>(),
            std::ptr::addr_of_mut!(o).cast::<u8>(),
            n,
        )
    };
    Ok(o)
}

fn classifier_choice(code: u32) -> Result<ClassifierChoice, Fail> {
    match code {
        FACELESS_CLASSIFIER_ACCURATE => Ok(ClassifierChoice::Accurate),
        FACELESS_CLASSIFIER_FAST => Ok(ClassifierChoice::Fast),
        _ => Err(Fail::Invalid(format!(
            "options.classifier is {code}; expected FACELESS_CLASSIFIER_ACCURATE (0) \
             or FACELESS_CLASSIFIER_FAST (1)"
        ))),
    }
}

unsafe fn build(options: *const FacelessOptions) -> Result<FacelessPipeline, Fail> {
    let o = unsafe { read_options(options)? };
    let classifier = classifier_choice(o.classifier)?;
    if o.intra_threads < 0 {
        return Err(Fail::Invalid(format!(
            "options.intra_threads is {}; expected 0 or more",
            o.intra_threads
        )));
    }
    let providers =
        parse_providers(unsafe { opt_str(o.execution_providers, "execution_providers")? })?;
    let runtime = RuntimeOptions {
        library_path: (!o.ort_library_path.is_null())
            .then(|| unsafe { c_path(o.ort_library_path) }),
        intra_threads: o.intra_threads as usize,
        execution_providers: providers,
    };
    let models = if o.model_dir.is_null() {
        ModelSource::Embedded
    } else {
        ModelSource::Directory(unsafe { c_path(o.model_dir) })
    };
    let detector = DetectorOptions {
        min_face_size: o.min_face_size,
        thresholds: o.thresholds,
        ..DetectorOptions::default()
    };
    // 0 means "default" for both; the builder already knows the defaults.
    let inner = Pipeline::builder()
        .detector_options(detector)
        .runtime(runtime)
        .models(models)
        .max_sessions(o.max_concurrency as usize)
        .max_pixels(o.max_pixels)
        .classifier(classifier)
        .build()?;
    Ok(FacelessPipeline { inner })
}

/// Creates a pipeline: loads ONNX Runtime (once per process) and the models,
/// and creates the first set of sessions. `options` may be NULL for the
/// defaults. On success `*out` receives a handle to free with
/// `faceless_pipeline_free`; on failure `*out` is set to NULL.
///
/// Errors: `FACELESS_ERR_NULL_POINTER` (`out`), `FACELESS_ERR_INVALID_ARGUMENT`
/// (bad `struct_size`, unknown provider name or classifier, out-of-range
/// option),
/// `FACELESS_ERR_RUNTIME`, `FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE`,
/// `FACELESS_ERR_MODEL`, `FACELESS_ERR_IO`.
#[no_mangle]
pub unsafe extern "C" fn faceless_pipeline_create(
    options: *const FacelessOptions,
    out: *mut *mut FacelessPipeline,
) -> i32 {
    guard(|| {
        non_null(out, "out")?;
        // SAFETY: `out` is non-NULL and writable.
        unsafe { out.write(std::ptr::null_mut()) };
        let pipeline = unsafe { build(options)? };
        unsafe { out.write(Box::into_raw(Box::new(pipeline))) };
        Ok(())
    })
}

/// Sets a pipeline's limits on encoded input, beyond `max_pixels` (which is
/// in `FacelessOptions`). These are a function, not option fields:
/// `faceless_options_init` writes a whole `FacelessOptions`, so the struct
/// cannot grow without overrunning callers compiled against a smaller
/// layout (`classifier` took the version-1 layout's tail padding).
///
/// - `max_input_bytes`: largest encoded input in bytes, an encoded buffer or
///   a file (which is then never read further). 0 means the default:
///   3 × `max_pixels` + 1 MiB, an uncompressed 24-bit image of the largest
///   size allowed.
/// - `max_pixels_per_byte`: most pixels an encoded image above 4 megapixels
///   may declare per byte of its data. Denser images ("decompression
///   bombs": a 73 KB PNG declaring 25 megapixels, a 35-byte GIF declaring
///   100 megapixels) are refused; photographs stay under 10. 0 means the
///   default, 250; `UINT64_MAX` turns the check off.
///
/// Inputs over either limit give `FACELESS_ERR_IMAGE_TOO_LARGE`, decided
/// before any pixel is decoded. Like `faceless_pipeline_free`, this must
/// not run while another call on the handle runs; set limits right after
/// creating it.
///
/// Errors: `FACELESS_ERR_NULL_POINTER` (`pipeline`).
#[no_mangle]
pub unsafe extern "C" fn faceless_pipeline_set_input_limits(
    pipeline: *mut FacelessPipeline,
    max_input_bytes: u64,
    max_pixels_per_byte: u64,
) -> i32 {
    guard(|| {
        non_null(pipeline, "pipeline")?;
        // SAFETY: a non-NULL handle comes from faceless_pipeline_create, and
        // the caller guarantees no other call uses it meanwhile.
        let p = unsafe { &mut *pipeline };
        p.inner
            .set_input_limits(max_input_bytes, max_pixels_per_byte);
        Ok(())
    })
}

/// Frees a pipeline. NULL is ignored. No call on the handle may be running or
/// start afterwards; results already returned stay valid.
#[no_mangle]
pub unsafe extern "C" fn faceless_pipeline_free(pipeline: *mut FacelessPipeline) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !pipeline.is_null() {
            // SAFETY: the handle came from faceless_pipeline_create and is
            // freed once.
            drop(unsafe { Box::from_raw(pipeline) });
        }
    }));
}
