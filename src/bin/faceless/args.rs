//! Command-line parsing, by hand: a handful of flags does not need a parser
//! crate, and the messages stay ours.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: faceless detect  [--json] [OPTIONS] IMAGE...
       faceless analyze [--json] [--aligned] [--draw OUT] [OPTIONS] IMAGE_OR_DIR...
       faceless version

options:
  --json            one JSON object per image and line
  --aligned         (analyze) each input is one aligned face chip
  --draw OUT        (analyze) write the image with boxes, landmarks and labels;
                    OUT is a file for one input, a directory for several
  --min-face N      smallest face to look for, in pixels (default 20)
  --threads N       ONNX Runtime threads per model run (default: runtime's choice)
  --provider NAME   execution provider: cpu, cuda, tensorrt, coreml, directml
  --models DIR      load models from DIR instead of the embedded ones
  --ort PATH        path of the ONNX Runtime library (else ORT_DYLIB_PATH, else beside faceless)
";

#[derive(Debug, Default)]
pub struct Args {
    pub command: String,
    pub json: bool,
    pub aligned: bool,
    pub draw: Option<PathBuf>,
    pub min_face: Option<f32>,
    pub threads: Option<usize>,
    pub providers: Vec<String>,
    pub models: Option<PathBuf>,
    pub ort: Option<PathBuf>,
    pub inputs: Vec<PathBuf>,
}

pub fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        command: argv.next().ok_or("missing command")?,
        ..Args::default()
    };
    if !matches!(
        args.command.as_str(),
        "detect" | "analyze" | "version" | "help" | "--help" | "-h"
    ) {
        return Err(format!("unknown command {:?}", args.command));
    }
    while let Some(a) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--json" => args.json = true,
            "--aligned" => args.aligned = true,
            "--draw" => args.draw = Some(value("--draw")?.into()),
            "--min-face" => {
                let v = value("--min-face")?;
                args.min_face = Some(
                    v.parse()
                        .map_err(|_| format!("--min-face: not a number: {v}"))?,
                );
            }
            "--threads" => {
                let v = value("--threads")?;
                args.threads = Some(
                    v.parse()
                        .map_err(|_| format!("--threads: not a count: {v}"))?,
                );
            }
            "--provider" => args.providers.push(value("--provider")?),
            "--models" => args.models = Some(value("--models")?.into()),
            "--ort" => args.ort = Some(value("--ort")?.into()),
            "--" => {
                args.inputs.extend(argv.by_ref().map(PathBuf::from));
                break;
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => args.inputs.push(a.into()),
        }
    }
    if args.command == "detect" && (args.aligned || args.draw.is_some()) {
        return Err("--aligned and --draw belong to analyze".into());
    }
    if matches!(args.command.as_str(), "detect" | "analyze") && args.inputs.is_empty() {
        return Err("no image given".into());
    }
    Ok(args)
}
