//! The `faceless` command line, run as a user would.

mod common;

use std::process::Command;

use common::*;

fn faceless(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faceless"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run faceless");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn detect_json_has_the_documented_shape() {
    let (code, out, err) = faceless(&[
        "detect",
        "--json",
        "tests/data/astronaut.png",
        "tests/data/chelsea.png",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let a = &lines[0];
    let keys: Vec<&String> = a.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["image", "width", "height", "faces"]);
    assert_eq!(a["image"], "tests/data/astronaut.png");
    assert_eq!(
        (a["width"].as_u64(), a["height"].as_u64()),
        (Some(512), Some(512))
    );
    let face = &a["faces"][0];
    let keys: Vec<&String> = face.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "box", "score", "landmarks"]);
    assert_eq!(face["id"], 0);
    assert_eq!(face["box"].as_array().unwrap().len(), 4);
    assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);
    assert!(face["score"].as_f64().unwrap() > 0.99);
    assert_eq!(lines[1]["faces"].as_array().unwrap().len(), 0);
}

#[test]
fn unreadable_images_are_named_and_the_rest_processed() {
    let (code, out, err) = faceless(&[
        "detect",
        "--json",
        "tests/data/truncated.jpg",
        "tests/data/astronaut.png",
        "tests/data/missing.png",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("tests/data/truncated.jpg"), "{err}");
    assert!(err.contains("tests/data/missing.png"), "{err}");
    assert_eq!(out.lines().count(), 1, "the good image is still processed");
}

#[test]
fn missing_runtime_says_what_was_looked_for() {
    let (code, _, err) = faceless(&[
        "detect",
        "--ort",
        "/nonexistent/libonnxruntime.so",
        "tests/data/astronaut.png",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/libonnxruntime.so"), "{err}");
    assert!(
        err.contains("fetch_onnxruntime.sh") && err.contains("ORT_DYLIB_PATH"),
        "{err}"
    );
}

#[test]
fn a_library_that_is_not_onnx_runtime_is_refused() {
    let Some(libc) = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib64/libz.so.1",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists()) else {
        eprintln!("SKIPPED: no libz to stand in for a wrong library");
        return;
    };
    let (code, _, err) = faceless(&["detect", "--ort", libc, "tests/data/astronaut.png"]);
    assert_ne!(code, 0);
    assert!(err.contains("not ONNX Runtime"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = faceless(&["detect"]);
    assert_eq!(code, 2);
    assert!(err.contains("usage"), "{err}");
    let (code, _, _) = faceless(&["detect", "--min-face", "abc", "x.png"]);
    assert_eq!(code, 2);
    let (code, _, err) = faceless(&["detect", "--min-face", "0", "tests/data/astronaut.png"]);
    assert_ne!(code, 0);
    assert!(err.contains("min_face_size"), "{err}");
}

#[test]
fn analyze_json_adds_attributes_with_probabilities() {
    let (code, out, err) = faceless(&["analyze", "--json", "tests/data/astronaut.png"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let face = &v["faces"][0];
    let keys: Vec<&String> = face.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "box",
            "score",
            "landmarks",
            "age",
            "age_group",
            "gender",
            "ethnicity"
        ]
    );
    assert_eq!(face["age_group"]["probs"].as_array().unwrap().len(), 12);
    let g = face["gender"]["probs"].as_object().unwrap();
    assert_eq!(g.keys().collect::<Vec<_>>(), ["male", "female"]);
    let e = face["ethnicity"]["probs"].as_object().unwrap();
    assert_eq!(
        e.keys().collect::<Vec<_>>(),
        ["white", "black", "asian", "indian", "others"]
    );
    let label = face["gender"]["label"].as_str().unwrap();
    assert_eq!(face["gender"]["prob"], g[label]);
}

#[test]
fn analyze_plain_prints_the_two_dictionaries() {
    let (code, out, err) = faceless(&["analyze", "tests/data/astronaut.png"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "tests/data/astronaut.png");
    assert!(
        lines[1].starts_with("{'face_0': {'box': [") && lines[1].contains("'confidence':"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("{'face_0': {'age': ") && lines[2].contains("'gender':"),
        "{out}"
    );
}

#[test]
fn analyze_aligned_and_draw_a_directory() {
    let dir = std::env::temp_dir().join(format!("faceless-draw-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (code, out, err) = faceless(&[
        "analyze",
        "--json",
        "--draw",
        dir.to_str().unwrap(),
        "tests/data",
    ]);
    assert_ne!(
        code, 0,
        "truncated.jpg and not_an_image.jpg are in tests/data"
    );
    assert!(
        err.contains("truncated.jpg") && err.contains("not_an_image.jpg"),
        "{err}"
    );
    assert_eq!(out.lines().count(), 10, "every readable image is reported");
    for name in [
        "astronaut.png.faceless.png",
        "astronaut.jpg.faceless.png",
        "chelsea.png.faceless.png",
    ] {
        assert!(dir.join(name).exists(), "{name} drawn");
    }
    let _ = std::fs::remove_dir_all(&dir);
    // --aligned: one face whose box is the whole image.
    let (code, out, _) = faceless(&["analyze", "--json", "--aligned", "tests/data/chelsea.png"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["faces"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["faces"][0]["box"],
        serde_json::json!([0.0, 0.0, 451.0, 300.0])
    );
}
