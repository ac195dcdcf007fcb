//! `faceless`: detect faces and estimate their attributes from the shell.

mod args;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use faceless::runtime::{ExecutionProvider, RuntimeOptions};
use faceless::{Detector, ModelSource};
use serde_json::{json, Value};

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("faceless: {e}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match args.command.as_str() {
        "detect" => detect(&args),
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
        intra_threads: args.threads.unwrap_or(0),
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

pub(crate) fn round(v: f32) -> Value {
    json!((f64::from(v) * 1000.0).round() / 1000.0)
}

pub(crate) fn face_json(id: usize, face: &faceless::Face) -> Value {
    json!({
        "id": id,
        "box": face.bbox.iter().map(|&v| round(v)).collect::<Vec<_>>(),
        "score": (f64::from(face.score) * 1e6).round() / 1e6,
        "landmarks": face.landmarks.iter().map(|p| vec![round(p[0]), round(p[1])]).collect::<Vec<_>>(),
    })
}

/// `faceless detect`: returns whether every image was read.
fn detect(args: &args::Args) -> faceless::Result<bool> {
    let mut builder = Detector::builder()
        .runtime(runtime_options(args)?)
        .models(model_source(args));
    if let Some(m) = args.min_face {
        builder = builder.min_face_size(m);
    }
    let detector = builder.build()?;
    let mut all_ok = true;
    let stdout = std::io::stdout();
    for path in &args.inputs {
        let shown = path.display().to_string();
        let result = faceless::input::decode_path(path, faceless::input::DEFAULT_MAX_PIXELS)
            .and_then(|img| detector.detect(&img).map(|faces| (img.dimensions(), faces)));
        match result {
            Ok(((w, h), faces)) => {
                let mut out = stdout.lock();
                if args.json {
                    let faces: Vec<Value> = faces
                        .iter()
                        .enumerate()
                        .map(|(i, f)| face_json(i, f))
                        .collect();
                    let line = json!({"image": shown, "width": w, "height": h, "faces": faces});
                    let _ = writeln!(out, "{line}");
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
                eprintln!("faceless: {}: {e}", Path::new(&shown).display());
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}
