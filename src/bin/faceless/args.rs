//! Command-line parsing, by hand: a handful of flags does not need a parser
//! crate, and the messages stay ours.

use std::ffi::OsString;
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
  --threads N       CPU threads to use, in all (default: every core)
  --provider NAME   execution provider: cpu, cuda, tensorrt, coreml, directml
  --models DIR      load models from DIR instead of the embedded ones
  --ort PATH        path of the ONNX Runtime library (else ORT_DYLIB_PATH, else beside faceless)
  --max-pixels N    largest image, as width x height (default 40000000)
  --max-bytes N     largest file read, in bytes (default 3 x max-pixels + 1 MiB)

Directories are walked like `find -L`: links followed, each directory and
file once, FIFOs, sockets and devices skipped unopened. A summary of what
was skipped goes to stderr; no image at all is an error.
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
    pub max_pixels: Option<u64>,
    pub max_bytes: Option<u64>,
    pub inputs: Vec<PathBuf>,
}

fn number<T: std::str::FromStr>(name: &str, v: OsString) -> Result<T, String> {
    v.to_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{name}: not a number: {}", v.to_string_lossy()))
}

/// Parses the arguments after the program name. File names are taken as
/// the OS gives them: a name that is not UTF-8 is a valid input.
pub fn parse(mut argv: impl Iterator<Item = OsString>) -> Result<Args, String> {
    let command = argv.next().ok_or("missing command")?;
    let mut args = Args {
        command: command
            .into_string()
            .map_err(|c| format!("unknown command {:?}", c.to_string_lossy()))?,
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
        // Options are ASCII; anything else (a non-UTF-8 name) is an input.
        let Some(flag) = a.to_str() else {
            args.inputs.push(a.into());
            continue;
        };
        match flag {
            "--json" => args.json = true,
            "--aligned" => args.aligned = true,
            "--draw" => args.draw = Some(value("--draw")?.into()),
            "--min-face" => args.min_face = Some(number("--min-face", value("--min-face")?)?),
            "--threads" => args.threads = Some(number("--threads", value("--threads")?)?),
            "--max-pixels" => {
                args.max_pixels = Some(number("--max-pixels", value("--max-pixels")?)?)
            }
            "--max-bytes" => args.max_bytes = Some(number("--max-bytes", value("--max-bytes")?)?),
            "--provider" => {
                let v = value("--provider")?;
                args.providers.push(
                    v.into_string().map_err(|v| {
                        format!("--provider: unknown name {:?}", v.to_string_lossy())
                    })?,
                );
            }
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
