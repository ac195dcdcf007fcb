//! The C ABI called from Rust, as a C caller would: every entry point on
//! good input and on misuse. The C, C++, C# and Go suites
//! (tools/run_binding_tests.sh) test the same ABI through the real header.

use std::ffi::{c_char, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use faceless::ffi::*;

fn data(name: &str) -> CString {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    CString::new(p.to_str().unwrap()).unwrap()
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(faceless_last_error()) }
        .to_string_lossy()
        .into_owned()
}

struct Shared(*mut FacelessPipeline);
// SAFETY: the ABI promises a pipeline handle may be shared between threads.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

fn pipeline() -> *const FacelessPipeline {
    static P: OnceLock<Shared> = OnceLock::new();
    P.get_or_init(|| {
        let mut p = null_mut();
        let st = unsafe { faceless_pipeline_create(null(), &mut p) };
        assert_eq!(st, FACELESS_OK, "{}", last_error());
        Shared(p)
    })
    .0
}

fn faces(r: *const FacelessResult) -> &'static [FacelessFace] {
    let r = unsafe { &*r };
    if r.face_count == 0 {
        return &[];
    }
    unsafe { std::slice::from_raw_parts(r.faces, r.face_count) }
}

fn check_prediction(p: &FacelessPrediction, n: usize) {
    assert_eq!(p.count, n);
    let probs = unsafe { std::slice::from_raw_parts(p.probs, p.count) };
    let labels = unsafe { std::slice::from_raw_parts(p.labels, p.count) };
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-3);
    assert_eq!(p.prob, probs[p.index as usize]);
    let label = unsafe { CStr::from_ptr(p.label) };
    assert_eq!(label, unsafe { CStr::from_ptr(labels[p.index as usize]) });
}

#[test]
fn version_and_status_strings() {
    let v = unsafe { CStr::from_ptr(faceless_version()) };
    assert_eq!(v.to_str().unwrap(), faceless::VERSION);
    assert_eq!(faceless_abi_version(), FACELESS_ABI_VERSION);
    for code in FACELESS_OK..=FACELESS_ERR_INTERNAL {
        let s = unsafe { CStr::from_ptr(faceless_status_string(code)) };
        assert!(s.to_str().unwrap().starts_with("FACELESS_"), "{code}");
    }
    let unknown = unsafe { CStr::from_ptr(faceless_status_string(-7)) };
    assert_eq!(unknown.to_str().unwrap(), "unknown status code");
}

#[test]
fn status_codes_are_the_error_kinds() {
    use faceless::ErrorKind as K;
    assert_eq!(FACELESS_ERR_INVALID_ARGUMENT, K::InvalidArgument as i32);
    assert_eq!(FACELESS_ERR_IO, K::Io as i32);
    assert_eq!(FACELESS_ERR_DECODE, K::Decode as i32);
    assert_eq!(FACELESS_ERR_IMAGE_TOO_LARGE, K::ImageTooLarge as i32);
    assert_eq!(FACELESS_ERR_RUNTIME, K::Runtime as i32);
    assert_eq!(
        FACELESS_ERR_EXECUTION_PROVIDER_UNAVAILABLE,
        K::ExecutionProviderUnavailable as i32
    );
    assert_eq!(FACELESS_ERR_MODEL, K::Model as i32);
    assert_eq!(FACELESS_ERR_INFERENCE, K::Inference as i32);
}

#[test]
fn options_struct_size() {
    let mut o = std::mem::MaybeUninit::<FacelessOptions>::uninit();
    unsafe { faceless_options_init(o.as_mut_ptr()) };
    let mut o = unsafe { o.assume_init() };
    assert_eq!(
        o.struct_size as usize,
        std::mem::size_of::<FacelessOptions>()
    );
    unsafe { faceless_options_init(null_mut()) };
    let mut p = std::ptr::dangling_mut::<FacelessPipeline>();
    o.struct_size = 8;
    assert_eq!(
        unsafe { faceless_pipeline_create(&o, &mut p) },
        FACELESS_ERR_INVALID_ARGUMENT
    );
    assert!(p.is_null());
    assert!(last_error().contains("struct_size"));
    assert_eq!(
        unsafe { faceless_pipeline_create(&o, null_mut()) },
        FACELESS_ERR_NULL_POINTER
    );
    assert!(last_error().contains("`out`"));
}

#[test]
fn input_limits_through_the_setter() {
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/astronaut.png"),
    )
    .unwrap();
    let mut r = null_mut();
    let mut o = std::mem::MaybeUninit::<FacelessOptions>::uninit();
    unsafe { faceless_options_init(o.as_mut_ptr()) };
    let mut o = unsafe { o.assume_init() };
    o.max_concurrency = 1;
    let mut p = null_mut();
    assert_eq!(unsafe { faceless_pipeline_create(&o, &mut p) }, FACELESS_OK);
    assert_eq!(
        unsafe { faceless_pipeline_set_input_limits(null_mut(), 1000, 0) },
        FACELESS_ERR_NULL_POINTER
    );
    // Defaults first: the image is read.
    assert_eq!(
        unsafe { faceless_analyze_encoded(p, bytes.as_ptr(), bytes.len(), &mut r) },
        FACELESS_OK
    );
    unsafe { faceless_result_free(r) };
    // A byte limit, for buffers and files alike.
    assert_eq!(
        unsafe { faceless_pipeline_set_input_limits(p, 1000, 0) },
        FACELESS_OK
    );
    assert_eq!(
        unsafe { faceless_analyze_encoded(p, bytes.as_ptr(), bytes.len(), &mut r) },
        FACELESS_ERR_IMAGE_TOO_LARGE
    );
    assert!(
        last_error().contains("exceeds the limit of 1000 bytes"),
        "{}",
        last_error()
    );
    let path = data("astronaut.png");
    assert_eq!(
        unsafe { faceless_analyze_file(p, path.as_ptr(), &mut r) },
        FACELESS_ERR_IMAGE_TOO_LARGE
    );
    // A character device is refused unread, not read until memory runs out.
    let zero = CString::new("/dev/zero").unwrap();
    assert_eq!(
        unsafe { faceless_analyze_file(p, zero.as_ptr(), &mut r) },
        FACELESS_ERR_IO
    );
    assert!(
        last_error().contains("character device"),
        "{}",
        last_error()
    );
    assert!(r.is_null());
    unsafe { faceless_pipeline_free(p) };
}

#[test]
fn unknown_provider_is_invalid_argument() {
    let mut o = std::mem::MaybeUninit::<FacelessOptions>::uninit();
    unsafe { faceless_options_init(o.as_mut_ptr()) };
    let mut o = unsafe { o.assume_init() };
    let name = CString::new("quantum").unwrap();
    o.execution_providers = name.as_ptr();
    let mut p = null_mut();
    assert_eq!(
        unsafe { faceless_pipeline_create(&o, &mut p) },
        FACELESS_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("quantum"));
}

#[test]
fn analyze_file_and_misuse() {
    let p = pipeline();
    let mut r = null_mut();
    let path = data("astronaut.png");
    assert_eq!(
        unsafe { faceless_analyze_file(p, path.as_ptr(), &mut r) },
        FACELESS_OK,
        "{}",
        last_error()
    );
    let f = faces(r);
    assert_eq!(f.len(), 1);
    check_prediction(&f[0].age_group, 12);
    check_prediction(&f[0].gender, 2);
    check_prediction(&f[0].ethnicity, 5);
    unsafe { faceless_result_free(r) };

    let cat = data("chelsea.png");
    assert_eq!(
        unsafe { faceless_analyze_file(p, cat.as_ptr(), &mut r) },
        FACELESS_OK
    );
    assert!(faces(r).is_empty());
    unsafe { faceless_result_free(r) };

    assert_eq!(
        unsafe { faceless_analyze_file(null(), path.as_ptr(), &mut r) },
        FACELESS_ERR_NULL_POINTER
    );
    assert!(r.is_null());
    assert_eq!(
        unsafe { faceless_analyze_file(p, null(), &mut r) },
        FACELESS_ERR_NULL_POINTER
    );
    assert!(last_error().contains("`path`"));
    let trunc = data("truncated.jpg");
    assert_eq!(
        unsafe { faceless_analyze_file(p, trunc.as_ptr(), &mut r) },
        FACELESS_ERR_DECODE
    );
    let missing = data("missing.png");
    assert_eq!(
        unsafe { faceless_analyze_file(p, missing.as_ptr(), &mut r) },
        FACELESS_ERR_IO
    );
    unsafe { faceless_result_free(null_mut()) };
    unsafe { faceless_pipeline_free(null_mut()) };
}

#[test]
fn pixels_misuse() {
    let p = pipeline();
    let px = [0u8; 48];
    let mut r = null_mut();
    let rgb = FacelessPixelFormat::Rgb as i32;
    let call = |len, w, h, stride, fmt, r: &mut *mut FacelessResult| unsafe {
        faceless_analyze_pixels(p, px.as_ptr(), len, w, h, stride, fmt, r)
    };
    assert_eq!(
        call(48, 0, 4, 12, rgb, &mut r),
        FACELESS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        call(48, 4, 4, 11, rgb, &mut r),
        FACELESS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        call(47, 4, 4, 12, rgb, &mut r),
        FACELESS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        call(0, 4, 4, 12, rgb, &mut r),
        FACELESS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        call(48, 4, 4, 12, 17, &mut r),
        FACELESS_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        call(48, u32::MAX, u32::MAX, usize::MAX, rgb, &mut r),
        FACELESS_ERR_IMAGE_TOO_LARGE
    );
    assert_eq!(call(48, 4, 4, 12, rgb, &mut r), FACELESS_OK);
    assert!(faces(r).is_empty());
    unsafe { faceless_result_free(r) };
    let st = unsafe { faceless_analyze_pixels(p, null(), 48, 4, 4, 12, rgb, &mut r) };
    assert_eq!(st, FACELESS_ERR_NULL_POINTER);
}

#[test]
fn batch_reports_each_image() {
    let p = pipeline();
    let a = data("astronaut.jpg");
    let bytes = std::fs::read(data("not_an_image.jpg").to_str().unwrap()).unwrap();
    let images = [
        image(FacelessImageKind::File as i32, a.as_ptr(), &[]),
        image(FacelessImageKind::Encoded as i32, null(), &bytes),
        image(FacelessImageKind::File as i32, a.as_ptr(), &[]),
    ];
    let mut results = [null_mut(); 3];
    let mut statuses = [-1; 3];
    let st = unsafe {
        faceless_analyze_batch(
            p,
            images.as_ptr(),
            3,
            results.as_mut_ptr(),
            statuses.as_mut_ptr(),
        )
    };
    assert_eq!(st, FACELESS_ERR_DECODE);
    assert!(last_error().starts_with("image 1:"), "{}", last_error());
    assert_eq!(statuses, [FACELESS_OK, FACELESS_ERR_DECODE, FACELESS_OK]);
    assert!(results[1].is_null());
    assert_eq!(faces(results[0]).len(), 1);
    assert_eq!(faces(results[2]).len(), 1);
    for r in results {
        unsafe { faceless_result_free(r) };
    }
    let st = unsafe {
        faceless_analyze_batch(p, null(), 3, results.as_mut_ptr(), statuses.as_mut_ptr())
    };
    assert_eq!(st, FACELESS_ERR_NULL_POINTER);
}

#[test]
fn analyze_images_separates_the_call_from_each_image() {
    let p = pipeline();
    let a = data("astronaut.jpg");
    let bytes = std::fs::read(data("not_an_image.jpg").to_str().unwrap()).unwrap();
    let images = [
        image(FacelessImageKind::File as i32, a.as_ptr(), &[]),
        image(FacelessImageKind::Encoded as i32, null(), &bytes),
        image(99, null(), &[]),
        image(FacelessImageKind::File as i32, a.as_ptr(), &[]),
    ];
    let empty = FacelessImageOutcome {
        status: -1,
        result: null_mut(),
        message: null_mut(),
    };
    let mut out = [empty; 4];
    let st = unsafe { faceless_analyze_images(p, images.as_ptr(), 4, out.as_mut_ptr()) };
    // The call ran: OK, though two images failed.
    assert_eq!(st, FACELESS_OK);
    let statuses: Vec<i32> = out.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [
            FACELESS_OK,
            FACELESS_ERR_DECODE,
            FACELESS_ERR_INVALID_ARGUMENT,
            FACELESS_OK
        ]
    );
    let message = |o: &FacelessImageOutcome| unsafe { CStr::from_ptr(o.message) }.to_string_lossy();
    assert!(message(&out[1]).contains("decode"), "{}", message(&out[1]));
    assert!(
        message(&out[2]).contains("image kind 99"),
        "{}",
        message(&out[2])
    );
    assert!(out[0].message.is_null() && out[1].result.is_null());
    assert_eq!(faces(out[0].result).len(), 1);
    assert_eq!(faces(out[3].result).len(), 1);
    unsafe { faceless_image_outcomes_free(out.as_mut_ptr(), 4) };
    assert!(out
        .iter()
        .all(|o| o.result.is_null() && o.message.is_null()));
    // Freeing twice frees nothing.
    unsafe { faceless_image_outcomes_free(out.as_mut_ptr(), 4) };
    // Errors of the call itself write nothing.
    let mut untouched = [empty; 1];
    let st = unsafe { faceless_analyze_images(p, null(), 1, untouched.as_mut_ptr()) };
    assert_eq!(st, FACELESS_ERR_NULL_POINTER);
    assert_eq!(untouched[0].status, -1);
    let st = unsafe { faceless_analyze_images(p, images.as_ptr(), 1, null_mut()) };
    assert_eq!(st, FACELESS_ERR_NULL_POINTER);
    let st = unsafe { faceless_analyze_images(p, images.as_ptr(), usize::MAX, out.as_mut_ptr()) };
    assert_eq!(st, FACELESS_ERR_INVALID_ARGUMENT);
    assert_eq!(
        unsafe { faceless_analyze_images(p, null(), 0, null_mut()) },
        FACELESS_OK
    );
}

#[test]
fn aligned_chip_is_one_whole_image_face() {
    let p = pipeline();
    let chip = vec![100u8; 50 * 40 * 4];
    let mut r = null_mut();
    let st = unsafe {
        faceless_classify_aligned_pixels(
            p,
            chip.as_ptr(),
            chip.len(),
            50,
            40,
            200,
            FacelessPixelFormat::Bgra as i32,
            &mut r,
        )
    };
    assert_eq!(st, FACELESS_OK, "{}", last_error());
    let f = faces(r);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].bbox, [0.0, 0.0, 50.0, 40.0]);
    assert_eq!(f[0].score, 1.0);
    assert_eq!(f[0].landmarks, [[0.0; 2]; 5]);
    check_prediction(&f[0].age_group, 12);
    unsafe { faceless_result_free(r) };
    let st = unsafe { faceless_classify_aligned_encoded(p, chip.as_ptr(), chip.len(), &mut r) };
    assert_eq!(st, FACELESS_ERR_DECODE);
}

#[test]
fn last_error_is_per_thread() {
    let mut r = null_mut();
    assert_eq!(
        unsafe { faceless_analyze_encoded(null(), null(), 0, &mut r) },
        FACELESS_ERR_NULL_POINTER
    );
    let mine = last_error();
    std::thread::spawn(|| {
        let mut r = null_mut();
        let st = unsafe { faceless_analyze_file(null(), null(), &mut r) };
        assert_eq!(st, FACELESS_ERR_NULL_POINTER);
        assert!(last_error().contains("`pipeline`"));
        let _ = unsafe { faceless_pipeline_create(null(), null_mut()) };
        assert!(last_error().contains("`out`"));
    })
    .join()
    .unwrap();
    assert_eq!(last_error(), mine);
}

/// A file or encoded-bytes entry of a batch (raw-pixel fields unused).
fn image(kind: i32, path: *const c_char, data: &[u8]) -> FacelessImage {
    FacelessImage {
        kind,
        path,
        data: data.as_ptr(),
        len: data.len(),
        width: 0,
        height: 0,
        stride: 0,
        format: 0,
    }
}

fn options() -> FacelessOptions {
    let mut o = std::mem::MaybeUninit::<FacelessOptions>::uninit();
    unsafe { faceless_options_init(o.as_mut_ptr()) };
    let mut o = unsafe { o.assume_init() };
    o.max_concurrency = 1;
    o
}

/// Creates a pipeline from `o`, analyses the sample and returns its one
/// face's gender probabilities, or the status of the failed creation.
fn sample_gender(o: &FacelessOptions) -> Result<Vec<f32>, i32> {
    let mut p = null_mut();
    let st = unsafe { faceless_pipeline_create(o, &mut p) };
    if st != FACELESS_OK {
        assert!(p.is_null());
        return Err(st);
    }
    let mut r = null_mut();
    let path = data("astronaut.png");
    let st = unsafe { faceless_analyze_file(p, path.as_ptr(), &mut r) };
    assert_eq!(st, FACELESS_OK, "{}", last_error());
    let f = faces(r);
    assert_eq!(f.len(), 1);
    check_prediction(&f[0].gender, 2);
    check_prediction(&f[0].age_group, 12);
    check_prediction(&f[0].ethnicity, 5);
    let probs = unsafe { std::slice::from_raw_parts(f[0].gender.probs, 2) }.to_vec();
    unsafe { faceless_result_free(r) };
    unsafe { faceless_pipeline_free(p) };
    Ok(probs)
}

#[test]
fn classifier_option_defaults_to_accurate_and_fast_runs() {
    assert_eq!(FACELESS_CLASSIFIER_ACCURATE, 0);
    assert_eq!(FACELESS_CLASSIFIER_FAST, 1);
    let mut o = options();
    assert_eq!(o.classifier, FACELESS_CLASSIFIER_ACCURATE);
    let accurate = sample_gender(&o).unwrap();
    o.classifier = FACELESS_CLASSIFIER_FAST;
    let fast = sample_gender(&o).unwrap();
    // The same models answer the same; different ones, differently.
    let same_model = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models/classifier/faceless-attributes.onnx"),
    )
    .unwrap()
        == std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("models/classifier-fast/faceless-attributes.onnx"),
        )
        .unwrap();
    assert_eq!(accurate == fast, same_model, "{accurate:?} {fast:?}");
}

#[test]
fn unknown_classifier_is_refused_by_name() {
    let mut o = options();
    o.classifier = 2;
    assert_eq!(sample_gender(&o), Err(FACELESS_ERR_INVALID_ARGUMENT));
    let e = last_error();
    assert!(e.contains("options.classifier is 2"), "{e}");
    o.classifier = u32::MAX;
    assert_eq!(sample_gender(&o), Err(FACELESS_ERR_INVALID_ARGUMENT));
}

#[test]
fn a_struct_size_ending_before_classifier_means_accurate() {
    let mut o = options();
    let v1 = std::mem::offset_of!(FacelessOptions, classifier);
    o.struct_size = v1 as u32;
    // Past the caller's struct_size: never read, whatever it holds.
    o.classifier = 7;
    sample_gender(&o).unwrap();
    // One byte short of the version-1 fields is refused.
    o.struct_size = v1 as u32 - 1;
    assert_eq!(sample_gender(&o), Err(FACELESS_ERR_INVALID_ARGUMENT));
    assert!(last_error().contains("struct_size"));
    // Larger (a newer header) is accepted; the unknown tail is ignored.
    o.struct_size = std::mem::size_of::<FacelessOptions>() as u32 + 16;
    o.classifier = FACELESS_CLASSIFIER_FAST;
    sample_gender(&o).unwrap();
}
