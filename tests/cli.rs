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
    assert_eq!(code, 3, "runtime missing: nothing processed");
    assert!(err.contains("/nonexistent/libonnxruntime.so"), "{err}");
    assert!(
        err.contains("ORT_DYLIB_PATH") && err.contains("LD_LIBRARY_PATH"),
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
    assert!(err.contains("Usage: faceless detect"), "{err}");
    let (code, _, _) = faceless(&["detect", "--min-face", "abc", "x.png"]);
    assert_eq!(code, 2);
    let (code, _, err) = faceless(&["detect", "--min-face", "0", "tests/data/astronaut.png"]);
    assert_eq!(code, 2, "a value the core refuses is a usage error");
    assert!(err.contains("min_face_size"), "{err}");
    let (code, _, err) = faceless(&["analyze", "--no-such-option", "x.png"]);
    assert_eq!(code, 2);
    assert!(err.contains("--no-such-option"), "{err}");
    let (code, _, err) = faceless(&["detect", "--provider", "gpu", "x.png"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values"), "{err}");
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
    assert_eq!(lines[0], "'tests/data/astronaut.png'");
    assert!(
        lines[1].starts_with("{'face_0': {'box': [") && lines[1].contains("'confidence':"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("{'face_0': {'age': ") && lines[2].contains("'gender': ('"),
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
    assert!(
        err.contains("files without an image extension"),
        "README.md in tests/data is counted in the summary: {err}"
    );
    assert!(
        err.contains(&format!(
            "drew {}",
            dir.join("chelsea.png.faceless.png").display()
        )),
        "written paths are printed: {err}"
    );
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

/// Runs the CLI with `stdin` as standard input.
fn faceless_stdin(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_faceless"))
        .args(args)
        .current_dir(repo())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run faceless");
    // A run that refuses its arguments exits without reading: a broken pipe
    // here is expected then, and the exit code tells the rest.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn every_subcommand_has_help_and_exit_codes() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help", "analyze"],
        &["detect", "--help"],
        &["detect", "-h"],
        &["analyze", "--help"],
        &["analyze", "-h"],
        &["version", "--help"],
    ] {
        let (code, out, err) = faceless(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("Usage: faceless"), "{args:?}: {out}");
        assert!(
            out.contains("Exit status:") && out.contains("3  nothing processed"),
            "{args:?}: {out}"
        );
    }
    let (_, out, _) = faceless(&["analyze", "--help"]);
    assert!(
        out.contains("--draw <OUT>") && out.contains("standard input"),
        "{out}"
    );
    // No command: the help, as a usage error.
    let (code, _, _) = faceless(&[]);
    assert_eq!(code, 2);
}

#[test]
fn version_names_the_runtime_and_its_providers() {
    for flag in ["-V", "--version", "version"] {
        let (code, out, err) = faceless(&[flag]);
        assert_eq!(code, 0, "{flag}: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            format!("faceless {} (C ABI 1)", env!("CARGO_PKG_VERSION"))
        );
        assert!(lines[1].starts_with("onnxruntime 1.31.1 at /"), "{out}");
        assert!(lines[2].contains("CPUExecutionProvider"), "{out}");
    }
}

/// The schema with its root replaced by a reference to one definition.
fn validator(def: &str) -> jsonschema::Validator {
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/faceless-cli.schema.json")).unwrap(),
    )
    .unwrap();
    let root = schema.as_object_mut().unwrap();
    root.remove("anyOf");
    root.insert("$ref".into(), format!("#/$defs/{def}").into());
    jsonschema::validator_for(&schema).expect("the schema itself is valid")
}

#[test]
fn json_output_follows_the_schema_in_the_repository() {
    let images = ["tests/data/astronaut.png", "tests/data/chelsea.png"];
    for (command, def) in [("detect", "detect_line"), ("analyze", "analyze_line")] {
        let v = validator(def);
        let mut args = vec![command, "--json"];
        args.extend(images);
        let (code, out, err) = faceless(&args);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().count(), 2);
        for line in out.lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{command}: {errors:?}\n{line}");
        }
        // The schema is strict enough to catch a missing or an extra member.
        let mut broken: serde_json::Value =
            serde_json::from_str(out.lines().next().unwrap()).unwrap();
        broken["faces"][0].as_object_mut().unwrap().remove("score");
        assert!(
            !v.is_valid(&broken),
            "{command}: a face without score passes"
        );
        let mut extra: serde_json::Value =
            serde_json::from_str(out.lines().next().unwrap()).unwrap();
        extra["faces"][0]["extra"] = 1.into();
        assert!(!v.is_valid(&extra), "{command}: an unknown member passes");
    }
    let (code, out, err) = faceless(&["version", "--json"]);
    assert_eq!(code, 0, "{err}");
    let value: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(validator("version").is_valid(&value), "{out}");
}

#[test]
fn plain_output_is_python_literals() {
    let (code, out, err) = faceless(&[
        "analyze",
        "tests/data/astronaut.png",
        "tests/data/chelsea.png",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, detect_out, _) = faceless(&["detect", "tests/data/astronaut.png"]);
    // Python reads every line back and checks what it finds.
    let script = r#"
import ast, sys
lines = [ast.literal_eval(l) for l in sys.stdin.read().splitlines()]
path, boxes, attrs, path2, boxes2, attrs2, dpath, dboxes = lines
assert path == 'tests/data/astronaut.png' and dpath == path, lines
assert set(boxes) == {'face_0'} and len(boxes['face_0']['box']) == 4, boxes
assert 0.9 < boxes['face_0']['confidence'] <= 1.0, boxes
label, prob = attrs['face_0']['gender']
assert label in ('male', 'female') and 0.5 <= prob <= 1.0, attrs
assert attrs['face_0']['ethnicity'][0] in ('white', 'black', 'asian', 'indian', 'others')
assert isinstance(attrs['face_0']['age'], float)
assert (path2, boxes2, attrs2) == ('tests/data/chelsea.png', {}, {}), lines[3:6]
assert dboxes == boxes, (dboxes, boxes)
print('ok')
"#;
    let (code, py_out, py_err) = {
        use std::io::Write;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs (the training tests need it too)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{out}{detect_out}").as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{py_err}\n{out}{detect_out}");
    assert_eq!(py_out.trim(), "ok");
}

#[test]
fn a_dash_reads_the_image_from_standard_input() {
    let bytes = std::fs::read(data("astronaut.jpg")).unwrap();
    let (code, out, err) = faceless_stdin(&["detect", "--json", "-"], &bytes);
    assert_eq!(code, 0, "{err}");
    let from_stdin: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let (_, out, _) = faceless(&["detect", "--json", "tests/data/astronaut.jpg"]);
    let from_file: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(from_stdin["image"], "-");
    assert_eq!(from_stdin["faces"], from_file["faces"]);
    let (code, out, err) = faceless_stdin(&["analyze", "--json", "-"], &bytes);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["faces"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Garbage on stdin is that input's error (exit 1), named "-".
    let (code, _, err) = faceless_stdin(&["analyze", "-"], b"not an image");
    assert_eq!(code, 1);
    assert!(err.contains("faceless: -: "), "{err}");
    let (code, _, err) = faceless_stdin(&["detect", "-", "-"], &bytes);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn draw_refuses_ambiguous_targets_and_never_overwrites_a_drawing() {
    let dir = std::env::temp_dir().join(format!("faceless-draw2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    for sub in ["a", "b"] {
        std::fs::copy(data("astronaut.png"), dir.join(sub).join("x.png")).unwrap();
    }
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let (a, b) = (s(&dir.join("a/x.png")), s(&dir.join("b/x.png")));
    // A file name for several inputs: refused, nothing written.
    let target = s(&dir.join("out.png"));
    let (code, _, err) = faceless(&["analyze", "--draw", &target, &a, &b]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("looks like an image file name"), "{err}");
    assert!(!dir.join("out.png").exists());
    // An existing file for several inputs: refused.
    let (code, _, err) = faceless(&["analyze", "--draw", &a, &b, "tests/data/chelsea.png"]);
    assert_eq!(code, 2, "{err}");
    // An input as its own target: refused.
    let (code, _, err) = faceless(&["analyze", "--draw", &a, &a]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is one of the inputs"), "{err}");
    // One input, a file with an extension that cannot be written: refused.
    let (code, _, _) = faceless(&["analyze", "--draw", &s(&dir.join("x.txt")), &a]);
    assert_eq!(code, 2);
    // Same file name from two folders: two drawings.
    let out_dir = s(&dir.join("drawn"));
    let (code, _, err) = faceless(&["analyze", "--draw", &out_dir, &a, &b]);
    assert_eq!(code, 0, "{err}");
    for name in ["x.png.faceless.png", "x.png.2.faceless.png"] {
        let p = dir.join("drawn").join(name);
        assert!(p.exists(), "{name}: {err}");
        assert!(err.contains(&format!("drew {}", p.display())), "{err}");
    }
    // One input into an existing directory.
    let (code, _, err) = faceless(&["analyze", "--draw", &out_dir, &a]);
    assert_eq!(code, 0, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn classifier_option_picks_accurate_or_fast() {
    let (_, help, _) = faceless(&["analyze", "--help"]);
    assert!(
        help.contains("--classifier <NAME>")
            && help.contains("[default: accurate]")
            && help.contains("[possible values: accurate, fast]"),
        "{help}"
    );
    let gender = |args: &[&str]| {
        let (code, out, err) = faceless(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let faces = v["faces"].as_array().unwrap();
        assert_eq!(faces.len(), 1, "{args:?}");
        let probs = faces[0]["gender"]["probs"].as_object().unwrap();
        let sum: f64 = probs.values().map(|p| p.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 2e-3, "{args:?}: {out}");
        faces[0]["gender"].clone()
    };
    let default = gender(&["analyze", "--json", "tests/data/astronaut.png"]);
    let accurate = gender(&[
        "analyze",
        "--json",
        "--classifier",
        "accurate",
        "tests/data/astronaut.png",
    ]);
    assert_eq!(default, accurate);
    gender(&[
        "analyze",
        "--json",
        "--classifier=fast",
        "tests/data/astronaut.png",
    ]);
    // The models directory of the repository holds both.
    gender(&[
        "analyze",
        "--json",
        "--classifier",
        "fast",
        "--models",
        "models",
        "tests/data/astronaut.png",
    ]);
    // --aligned runs the classifier alone.
    gender(&[
        "analyze",
        "--json",
        "--aligned",
        "--classifier",
        "fast",
        "tests/data/chelsea.png",
    ]);
    let (code, _, err) = faceless(&["analyze", "--classifier", "medium", "x.png"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values: accurate, fast"), "{err}");
}

#[test]
fn fast_from_a_models_directory_without_it_is_a_setup_error() {
    let dir = std::env::temp_dir().join(format!("faceless-cli-models-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for m in ["mtcnn", "classifier"] {
        std::os::unix::fs::symlink(repo().join("models").join(m), dir.join(m)).unwrap();
    }
    let models = path_str(&dir);
    let args = ["analyze", "--models", &models, "tests/data/astronaut.png"];
    let (code, _, err) = faceless(&args);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = faceless(&[&args[..3], &["--classifier", "fast"], &args[3..]].concat());
    assert_eq!(code, 3, "{out}");
    assert!(err.contains("classifier-fast/"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
