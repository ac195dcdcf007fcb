//! `faceless`: detect faces and estimate their attributes from the shell.

mod args;
mod draw;
mod font;
mod walk;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use faceless::runtime::{ExecutionProvider, RuntimeOptions};
use faceless::{
    BatchMode, Detector, FaceAnalysis, ImageAnalysis, ImageInput, ModelSource, Pipeline,
};
use image::RgbImage;
use serde_json::{json, Map, Value};

fn main() -> ExitCode {
    let args = match args::parse(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("faceless: {e}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match args.command.as_str() {
        "detect" => detect(&args),
        "analyze" => analyze(&args),
        "version" => {
            println!("faceless {}", faceless::VERSION);
            Ok(true)
        }
        _ => {
            print!("{}", args::USAGE);
            Ok(true)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("faceless: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime_options(args: &args::Args) -> faceless::Result<RuntimeOptions> {
    Ok(RuntimeOptions {
        library_path: args.ort.clone(),
        intra_threads: 0,
        execution_providers: args
            .providers
            .iter()
            .map(|p| ExecutionProvider::from_name(p))
            .collect::<faceless::Result<_>>()?,
    })
}

fn model_source(args: &args::Args) -> ModelSource {
    args.models
        .clone()
        .map_or(ModelSource::Embedded, ModelSource::Directory)
}

/// The limits the command line asks for (defaults for what it leaves out).
fn limits(args: &args::Args) -> faceless::input::Limits {
    faceless::input::Limits {
        max_bytes: args.max_bytes.unwrap_or(0),
        ..faceless::input::Limits::with_max_pixels(args.max_pixels.unwrap_or(0))
    }
}

/// The files to process, whether every input was usable, and the summary of
/// what was skipped (for the end of the run).
fn expand_inputs(args: &args::Args) -> (Vec<PathBuf>, bool, Option<String>) {
    let walk = walk::expand(&args.inputs);
    let mut ok = !walk.failed;
    let summary = walk.summary();
    if walk.files.is_empty() {
        eprintln!(
            "faceless: no image to process in the {} input(s) given{}",
            args.inputs.len(),
            summary
                .as_deref()
                .map_or(String::new(), |s| format!(" ({s})"))
        );
        ok = false;
        return (walk.files, ok, None);
    }
    (walk.files, ok, summary)
}

/// The `"image"` member of a JSON line: the path as UTF-8, replacing what is
/// not UTF-8 with U+FFFD, and `"image_lossy": true` when it had to.
fn image_json(m: &mut Map<String, Value>, path: &Path) {
    let shown = path.to_string_lossy();
    m.insert("image".into(), json!(shown));
    if path.to_str().is_none() {
        m.insert("image_lossy".into(), json!(true));
    }
}

fn round(v: f32, digits: i32) -> Value {
    let k = 10f64.powi(digits);
    json!((f64::from(v) * k).round() / k)
}

fn face_json(id: usize, face: &faceless::Face) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("box".into(), json!(face.bbox.map(|v| round(v, 2))));
    m.insert("score".into(), round(face.score, 6));
    m.insert(
        "landmarks".into(),
        json!(face.landmarks.map(|p| [round(p[0], 2), round(p[1], 2)])),
    );
    m
}

fn probs_by_label(p: &faceless::Prediction) -> Value {
    let mut m = Map::new();
    for (label, prob) in p.labels.iter().zip(&p.probs) {
        m.insert(label.clone(), round(*prob, 4));
    }
    Value::Object(m)
}

fn analysis_json(fa: &FaceAnalysis) -> Value {
    let a = &fa.attributes;
    let mut m = face_json(fa.id, &fa.face);
    m.insert("age".into(), round(a.age_years, 1));
    m.insert(
        "age_group".into(),
        json!({"index": a.age_group.index, "label": a.age_group.label, "prob": round(a.age_group.prob, 4),
               "probs": a.age_group.probs.iter().map(|&p| round(p, 4)).collect::<Vec<_>>()}),
    );
    m.insert(
        "gender".into(),
        json!({"label": a.gender.label, "prob": round(a.gender.prob, 4),
               "probs": probs_by_label(&a.gender)}),
    );
    m.insert(
        "ethnicity".into(),
        json!({"label": a.ethnicity.label, "prob": round(a.ethnicity.prob, 4),
               "probs": probs_by_label(&a.ethnicity)}),
    );
    Value::Object(m)
}

/// `faceless detect`: returns whether every image was read.
fn detect(args: &args::Args) -> faceless::Result<bool> {
    let mut builder = Detector::builder()
        .max_sessions(args.threads.unwrap_or(0))
        .runtime(runtime_options(args)?)
        .models(model_source(args));
    if let Some(m) = args.min_face {
        builder = builder.min_face_size(m);
    }
    let detector = builder.build()?;
    let limits = limits(args);
    let (files, mut all_ok, summary) = expand_inputs(args);
    let mut out = std::io::stdout().lock();
    let inputs: Vec<ImageInput<'_>> = files.iter().map(|p| ImageInput::Path(p)).collect();
    detector.detect_batch_each(&inputs, &limits, |i, result| {
        let path = &files[i];
        let shown = path.display().to_string();
        match result.map(|(img, faces)| (img.dimensions(), faces)) {
            Ok(((w, h), faces)) => {
                if args.json {
                    let faces: Vec<Value> = faces
                        .iter()
                        .enumerate()
                        .map(|(i, f)| Value::Object(face_json(i, f)))
                        .collect();
                    let mut line = Map::new();
                    image_json(&mut line, path);
                    line.insert("width".into(), json!(w));
                    line.insert("height".into(), json!(h));
                    line.insert("faces".into(), Value::Array(faces));
                    let _ = writeln!(out, "{}", Value::Object(line));
                } else {
                    let _ = writeln!(out, "{shown}: {w}x{h}, {} face(s)", faces.len());
                    for (i, f) in faces.iter().enumerate() {
                        let b = f.bbox;
                        let _ = writeln!(
                            out,
                            "  face_{i}: box [{:.0}, {:.0}, {:.0}, {:.0}] confidence {:.3}",
                            b[0], b[1], b[2], b[3], f.score
                        );
                    }
                }
            }
            Err(e) => {
                eprintln!("faceless: {shown}: {e}");
                all_ok = false;
            }
        }
    });
    if let Some(s) = summary {
        eprintln!("faceless: {s}");
    }
    Ok(all_ok)
}

/// `faceless analyze`: returns whether every image was read.
fn analyze(args: &args::Args) -> faceless::Result<bool> {
    let mut builder = Pipeline::builder()
        .max_sessions(args.threads.unwrap_or(0))
        .runtime(runtime_options(args)?)
        .models(model_source(args));
    if let Some(m) = args.min_face {
        builder = builder.min_face_size(m);
    }
    let limits = limits(args);
    let pipeline = builder
        .max_pixels(limits.max_pixels)
        .max_input_bytes(limits.max_bytes)
        .build()?;
    let (files, mut all_ok, summary) = expand_inputs(args);
    let draw_dir = args
        .draw
        .as_ref()
        .filter(|_| files.len() > 1 || args.inputs.iter().any(|p| p.is_dir()));
    if let Some(dir) = draw_dir {
        std::fs::create_dir_all(dir).map_err(|source| faceless::Error::Io {
            path: dir.clone(),
            source,
        })?;
    }
    let progress = std::io::stderr().is_terminal() && files.len() > 1;

    // The pipeline runs the images on several threads and hands them back
    // in input order as they complete.
    let inputs: Vec<ImageInput<'_>> = files.iter().map(|p| ImageInput::Path(p)).collect();
    let mode = if args.aligned {
        BatchMode::ClassifyAligned
    } else {
        BatchMode::Analyze
    };
    let mut out = std::io::stdout().lock();
    pipeline.analyze_batch_each(&inputs, mode, |i, outcome| {
        let path = &files[i];
        match outcome {
            Ok(ImageAnalysis { mut image, faces }) => {
                print_analysis(&mut out, args, path, &image, &faces);
                if let Some(target) = &args.draw {
                    let dest = match draw_dir {
                        Some(dir) => dir.join(draw_name(path)),
                        None => target.clone(),
                    };
                    draw::annotate(&mut image, &faces);
                    if let Err(e) = image.save(&dest) {
                        eprintln!("faceless: cannot write {}: {e}", dest.display());
                        all_ok = false;
                    }
                }
            }
            Err(e) => {
                // Clear the progress line first so the message stands alone.
                let clear = if progress { "\r\x1b[K" } else { "" };
                eprintln!("{clear}faceless: {}: {e}", path.display());
                all_ok = false;
            }
        }
        if progress {
            let done = i + 1;
            eprint!("\r[{done}/{}] {}", files.len(), bar(done, files.len()));
        }
    });
    if progress {
        eprintln!();
    }
    if let Some(s) = summary {
        eprintln!("faceless: {s}");
    }
    Ok(all_ok)
}

fn bar(done: usize, total: usize) -> String {
    let width = 30;
    let filled = done * width / total.max(1);
    format!("{}{}", "#".repeat(filled), ".".repeat(width - filled))
}

/// `photo.jpg` -> `photo.jpg.faceless.png`: the full name, so `a.jpg` and
/// `a.png` in one directory do not overwrite each other's drawing.
fn draw_name(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map_or_else(|| "image".into(), |s| s.to_os_string());
    name.push(".faceless.png");
    PathBuf::from(name)
}

fn print_analysis(
    out: &mut impl Write,
    args: &args::Args,
    path: &Path,
    img: &RgbImage,
    faces: &[FaceAnalysis],
) {
    let shown = path.display().to_string();
    if args.json {
        let faces: Vec<Value> = faces.iter().map(analysis_json).collect();
        let mut line = Map::new();
        image_json(&mut line, path);
        line.insert("width".into(), json!(img.width()));
        line.insert("height".into(), json!(img.height()));
        line.insert("faces".into(), Value::Array(faces));
        let _ = writeln!(out, "{}", Value::Object(line));
        return;
    }
    // The seed's two dictionaries: where the faces are, then what they are.
    let boxes: Vec<String> = faces
        .iter()
        .map(|f| {
            let b = f.face.bbox;
            format!(
                "'face_{}': {{'box': [{:.0}, {:.0}, {:.0}, {:.0}], 'confidence': {:.3}}}",
                f.id, b[0], b[1], b[2], b[3], f.face.score
            )
        })
        .collect();
    let attrs: Vec<String> = faces
        .iter()
        .map(|f| {
            let a = &f.attributes;
            format!(
                "'face_{}': {{'age': {:.1}, 'age_group': '{}' ({:.2}), 'gender': '{}' ({:.2}), 'ethnicity': '{}' ({:.2})}}",
                f.id, a.age_years, a.age_group.label, a.age_group.prob, a.gender.label, a.gender.prob, a.ethnicity.label, a.ethnicity.prob
            )
        })
        .collect();
    let _ = writeln!(out, "{shown}");
    let _ = writeln!(out, "{{{}}}", boxes.join(", "));
    let _ = writeln!(out, "{{{}}}", attrs.join(", "));
}
