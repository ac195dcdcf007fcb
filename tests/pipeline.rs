//! The whole pipeline: detection, alignment, classification.

mod common;

use std::sync::{Arc, OnceLock};

use common::*;
use faceless::classify::{ETHNICITY_LABELS, GENDER_LABELS};
use faceless::input::{decode_path, DEFAULT_MAX_PIXELS};
use faceless::{Attributes, ErrorKind, ModelSource, Pipeline, Prediction};

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| Pipeline::new().expect("pipeline"))
}

fn check_prediction(p: &Prediction, labels: &[&str]) {
    assert_eq!(p.probs.len(), labels.len());
    let sum: f32 = p.probs.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
    assert!(p.probs.iter().all(|&q| (0.0..=1.0).contains(&q)));
    assert_eq!(p.prob, p.probs[p.index]);
    assert!(p.probs.iter().all(|&q| q <= p.prob));
    assert_eq!(p.label, labels[p.index]);
}

fn check_attributes(a: &Attributes, pipeline: &Pipeline) {
    let groups: Vec<&str> = pipeline
        .age_group_labels()
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(groups.len(), 12);
    check_prediction(&a.age_group, &groups);
    check_prediction(&a.gender, &GENDER_LABELS);
    check_prediction(&a.ethnicity, &ETHNICITY_LABELS);
    assert!((0.0..=120.0).contains(&a.age_years), "age {}", a.age_years);
}

#[test]
fn astronaut_is_one_face_with_consistent_attributes() {
    let p = pipeline();
    let (_, faces) = p.analyze_path(data("astronaut.png")).unwrap();
    assert_eq!(faces.len(), 1);
    assert_eq!(faces[0].id, 0);
    check_attributes(&faces[0].attributes, p);
    // Same input, same output.
    let (_, again) = p.analyze_path(data("astronaut.png")).unwrap();
    assert_eq!(faces, again);
}

#[test]
fn no_face_no_result() {
    let (_, faces) = pipeline().analyze_path(data("chelsea.png")).unwrap();
    assert!(faces.is_empty());
}

#[test]
fn ids_follow_score_order() {
    let Some(photo) = shared("photos/facenet_multiface.jpg") else {
        return;
    };
    let (_, faces) = pipeline().analyze_path(photo).unwrap();
    assert_eq!(faces.len(), 6);
    for (i, f) in faces.iter().enumerate() {
        assert_eq!(f.id, i);
        check_attributes(&f.attributes, pipeline());
    }
    assert!(faces.windows(2).all(|w| w[0].face.score >= w[1].face.score));
}

#[test]
fn concurrent_calls_on_one_handle_agree_with_sequential_ones() {
    let p = Arc::new(Pipeline::builder().max_sessions(3).build().unwrap());
    let img = Arc::new(decode_path(data("astronaut.png"), DEFAULT_MAX_PIXELS).unwrap());
    let expected = p.analyze(&img).unwrap();
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (p, img) = (p.clone(), img.clone());
            std::thread::spawn(move || (0..3).map(|_| p.analyze(&img).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    for t in threads {
        for result in t.join().unwrap() {
            assert_eq!(result, expected);
        }
    }
}

#[test]
fn aligned_chip_entry_point() {
    let chip = decode_path(data("astronaut.png"), DEFAULT_MAX_PIXELS).unwrap();
    let (_, faces) = pipeline().analyze_path(data("astronaut.png")).unwrap();
    let aligned = pipeline().align(&chip, &faces[0].face);
    assert_eq!(aligned.dimensions(), pipeline().chip_size());
    // Classifying the pipeline's own aligned chip gives the pipeline's answer.
    let a = pipeline().classify_aligned(&aligned).unwrap();
    check_attributes(&a.attributes, pipeline());
    assert_eq!(a.attributes, faces[0].attributes);
    // One face covering the whole chip.
    let (w, h) = aligned.dimensions();
    assert_eq!(a.face.bbox, [0.0, 0.0, w as f32, h as f32]);
    assert_eq!((a.id, a.face.score), (0, 1.0));
    // Every prediction carries its label set.
    assert_eq!(&*a.attributes.gender.labels, ["male", "female"]);
    assert_eq!(a.attributes.age_group.labels.len(), 12);
}

#[test]
fn classifier_reads_utkface_chips_correctly() {
    // A wiring check, not the accuracy report (that is MODEL_CARD.md): on
    // held-out UTKFace test chips, a classifier fed the right channel order,
    // size and normalisation is far above chance on every head.
    let Some(dir) = shared("utkface/images") else {
        return;
    };
    let csv = std::fs::read_to_string(repo().join("training/report/manifest.csv")).unwrap();
    // Sorted by the manifest's random image id: an unbiased sample (file
    // names sort by age, and babies' gender is the hardest to tell).
    let mut rows: Vec<(String, String, u32, usize, usize)> = csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c.get(6) == Some(&"test")).then(|| {
                (
                    c[0].to_string(),
                    c[1].to_string(),
                    c[2].parse().unwrap(),
                    c[3].parse().unwrap(),
                    c[4].parse().unwrap(),
                )
            })
        })
        .collect();
    rows.sort();
    rows.truncate(300);
    let (mut gender_ok, mut eth_ok, mut abs_err) = (0, 0, 0f32);
    for (_, file, age, gender, eth) in &rows {
        let chip = decode_path(dir.join(file), DEFAULT_MAX_PIXELS).unwrap();
        let a = pipeline().classify_aligned(&chip).unwrap().attributes;
        gender_ok += usize::from(a.gender.index == *gender);
        eth_ok += usize::from(a.ethnicity.index == *eth);
        abs_err += (a.age_years - *age as f32).abs();
    }
    let n = rows.len() as f32;
    let (g, e, mae) = (gender_ok as f32 / n, eth_ok as f32 / n, abs_err / n);
    eprintln!(
        "{} test chips: gender {g:.3}, ethnicity {e:.3}, age MAE {mae:.2}",
        rows.len()
    );
    assert!(
        g > 0.8 && e > 0.6 && mae < 12.0,
        "gender {g} ethnicity {e} MAE {mae}"
    );
}

#[test]
fn models_load_from_a_directory_and_are_validated() {
    let dir = ModelSource::Directory(repo().join("models"));
    let p = Pipeline::builder()
        .models(dir)
        .max_sessions(1)
        .build()
        .unwrap();
    let (_, faces) = p.analyze_path(data("astronaut.png")).unwrap();
    assert_eq!(faces.len(), 1);

    let tmp = std::env::temp_dir().join(format!("faceless-models-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("mtcnn")).unwrap();
    std::fs::create_dir_all(tmp.join("classifier")).unwrap();
    for f in [
        "mtcnn/pnet.onnx",
        "mtcnn/rnet.onnx",
        "mtcnn/onet.onnx",
        "classifier/faceless-attributes.onnx",
    ] {
        std::fs::copy(repo().join("models").join(f), tmp.join(f)).unwrap();
    }
    let manifest =
        std::fs::read_to_string(repo().join("models/classifier/faceless-attributes.json")).unwrap();
    let build = |m: &str| {
        std::fs::write(tmp.join("classifier/faceless-attributes.json"), m).unwrap();
        Pipeline::builder()
            .models(ModelSource::Directory(tmp.clone()))
            .max_sessions(1)
            .build()
    };
    build(&manifest).unwrap();
    for (broken, expect) in [
        (manifest.replace("\"female\"", "\"woman\""), "gender labels"),
        (
            manifest.replace("\"others\"", "\"other\""),
            "ethnicity labels",
        ),
        (
            manifest.replace("\"sha256\": \"", "\"sha256\": \"00"),
            "SHA-256",
        ),
        ("{\"name\": 1}".to_string(), "malformed"),
    ] {
        let err = build(&broken).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Model, "{err}");
        assert!(err.to_string().contains(expect), "{err}");
    }
    std::fs::remove_file(tmp.join("mtcnn/rnet.onnx")).unwrap();
    let err = build(&manifest).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Model);
    assert!(err.to_string().contains("rnet.onnx"), "{err}");
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn limits_and_bad_options_are_refused() {
    let p = Pipeline::builder()
        .max_pixels(1000)
        .max_sessions(1)
        .build()
        .unwrap();
    let err = p.analyze_path(data("astronaut.png")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ImageTooLarge);
    let err = Pipeline::builder().min_face_size(-3.0).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = faceless::runtime::ExecutionProvider::from_name("quantum").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn unavailable_execution_provider_is_a_clear_error() {
    use faceless::runtime::{ExecutionProvider, RuntimeOptions};
    let available = faceless::runtime::available_providers().unwrap_or_default();
    if available.iter().any(|p| p == "CUDAExecutionProvider") {
        eprintln!("SKIPPED: this runtime has CUDA");
        return;
    }
    let err = Pipeline::builder()
        .runtime(RuntimeOptions {
            execution_providers: vec![ExecutionProvider::Cuda],
            ..Default::default()
        })
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ExecutionProviderUnavailable, "{err}");
    assert!(err.to_string().contains("CUDAExecutionProvider"), "{err}");
}

#[test]
fn batch_runs_every_input_kind_and_fails_images_alone() {
    use faceless::{BatchMode, ImageInput};
    let p = pipeline();
    let png = std::fs::read(data("astronaut.png")).unwrap();
    let img = decode_path(data("astronaut.png"), DEFAULT_MAX_PIXELS).unwrap();
    let path = data("astronaut.jpg");
    let missing = data("no_such_file.png");
    let inputs = [
        ImageInput::Path(&path),
        ImageInput::Encoded(&png),
        ImageInput::Encoded(b"not an image"),
        ImageInput::from(&img),
        ImageInput::Path(&missing),
    ];
    let out = p.analyze_batch(&inputs, BatchMode::Analyze);
    assert_eq!(out.len(), inputs.len());
    let faces = |i: usize| out[i].as_ref().unwrap().faces.clone();
    assert_eq!(faces(0), p.analyze_path(&path).unwrap().1);
    assert_eq!(faces(1), faces(3));
    assert_eq!(faces(1), p.analyze(&img).unwrap());
    // Decoded inputs come back with their image; packed RGB pixels are read
    // where they lie (no copy, no image), padded ones are converted.
    let analysed = |i: usize| out[i].as_ref().unwrap();
    assert_eq!(analysed(1).image.as_ref(), Some(&img));
    assert!(analysed(3).image.is_none());
    assert_eq!((analysed(3).width, analysed(3).height), img.dimensions());
    let (w, h) = img.dimensions();
    let stride = w as usize * 3 + 5;
    let mut padded = vec![0u8; stride * h as usize];
    for (y, row) in img.as_raw().chunks_exact(w as usize * 3).enumerate() {
        padded[y * stride..][..row.len()].copy_from_slice(row);
    }
    let padded_input = ImageInput::Pixels {
        data: &padded,
        width: w,
        height: h,
        stride,
        format: faceless::input::PixelFormat::Rgb,
    };
    let converted = p.analyze_input(&padded_input).unwrap();
    assert_eq!(converted.image.as_ref(), Some(&img));
    assert_eq!(converted.faces, faces(3));
    assert_eq!(out[2].as_ref().unwrap_err().kind(), ErrorKind::Decode);
    assert_eq!(out[4].as_ref().unwrap_err().kind(), ErrorKind::Io);
    let aligned = p.analyze_batch(&inputs[1..2], BatchMode::ClassifyAligned);
    assert_eq!(
        aligned[0].as_ref().unwrap().faces,
        [p.classify_aligned(&img).unwrap()]
    );
}

#[test]
fn a_second_runtime_library_is_refused() {
    use faceless::runtime::{environment, RuntimeOptions};
    let _ = pipeline();
    let (_, loaded) = environment(&RuntimeOptions::default()).unwrap();
    // The library already loaded, named again: accepted.
    let same = RuntimeOptions {
        library_path: Some(loaded.clone()),
        ..RuntimeOptions::default()
    };
    assert!(environment(&same).is_ok());
    // Another one: an error, not silently the first one.
    let other = RuntimeOptions {
        library_path: Some("/nonexistent/libonnxruntime.so".into()),
        ..RuntimeOptions::default()
    };
    let err = Pipeline::builder().runtime(other).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Runtime);
    let msg = err.to_string();
    assert!(
        msg.contains("already loaded") && msg.contains("/nonexistent"),
        "{msg}"
    );
}

/// Sixteen astronauts on a 4×4 grid: more faces than one classification
/// share, so a pipeline with spare threads spreads them out.
fn crowd() -> faceless::image::RgbImage {
    let one = decode_path(data("astronaut.png"), DEFAULT_MAX_PIXELS).unwrap();
    let tile = faceless::image::imageops::resize(
        &one,
        256,
        256,
        faceless::image::imageops::FilterType::Triangle,
    );
    let mut img = faceless::image::RgbImage::new(1024, 1024);
    for i in 0..16 {
        faceless::image::imageops::replace(&mut img, &tile, (i % 4) * 256, (i / 4) * 256);
    }
    img
}

#[test]
fn crowd_shares_give_the_same_answers_however_threads_join() {
    let img = Arc::new(crowd());
    let alone = Pipeline::builder().max_sessions(1).build().unwrap();
    let expected = alone.analyze(&img).unwrap();
    assert!(expected.len() >= 12, "{} faces", expected.len());
    // Threads of the budget free up at different moments while the crowd's
    // shares are being classified: each call must still get every face,
    // in order, with the one-thread answers.
    let p = Arc::new(Pipeline::builder().max_sessions(3).build().unwrap());
    // Alone on the pipeline, the call shares every detection stage and the
    // faces with two more threads.
    assert_eq!(p.analyze(&img).unwrap(), expected);
    let small = Arc::new(decode_path(data("astronaut.png"), DEFAULT_MAX_PIXELS).unwrap());
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let (p, img, small) = (p.clone(), img.clone(), small.clone());
            std::thread::spawn(move || {
                (0..3)
                    .map(|k| {
                        if (t + k) % 2 == 1 {
                            p.analyze(&small).unwrap();
                        }
                        p.analyze(&img).unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        for result in t.join().unwrap() {
            assert_eq!(result, expected);
        }
    }
}
