//! `faceless`: detect faces and estimate their attributes from the shell.

mod args;
mod draw;
mod font;
mod output;
mod walk;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, ValueEnum};
use faceless::runtime::{ExecutionProvider, RuntimeOptions};
use faceless::{BatchMode, Detector, ErrorKind, ImageAnalysis, ImageInput, ModelSource, Pipeline};
use serde_json::json;

use args::{exit, AnalyzeArgs, Cli, Command, DetectArgs, RunOptions};
use output::{Faces, Report};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version-like displays exit 0, the rest 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let outcome = match &cli.command {
        _ if cli.version => version(None, false),
        Some(Command::Detect(a)) => detect(a),
        Some(Command::Analyze(a)) => analyze(a),
        Some(Command::Version(a)) => version(a.ort.clone(), a.json),
        None => {
            let _ = Cli::command().print_help();
            return ExitCode::from(exit::USAGE);
        }
    };
    match outcome {
        Ok(true) => ExitCode::from(exit::OK),
        Ok(false) => ExitCode::from(exit::INPUT_FAILED),
        Err(Failure::Usage(message)) => {
            eprintln!("faceless: {message}");
            ExitCode::from(exit::USAGE)
        }
        Err(Failure::Setup(e)) => {
            eprintln!("faceless: {e}");
            ExitCode::from(match e.kind() {
                ErrorKind::InvalidArgument => exit::USAGE,
                _ => exit::SETUP,
            })
        }
    }
}

/// Why a command processed nothing.
enum Failure {
    /// The command line asks for something impossible.
    Usage(String),
    /// ONNX Runtime, the models or an option the core refused.
    Setup(faceless::Error),
}

impl From<faceless::Error> for Failure {
    fn from(e: faceless::Error) -> Self {
        Failure::Setup(e)
    }
}

/// `faceless version` and `faceless --version`.
fn version(ort: Option<PathBuf>, as_json: bool) -> Result<bool, Failure> {
    let options = RuntimeOptions {
        library_path: ort,
        ..RuntimeOptions::default()
    };
    let info = faceless::runtime::runtime_info(&options)?;
    let providers = faceless::runtime::available_providers()?;
    if as_json {
        let v = json!({
            "faceless": faceless::VERSION,
            "abi": faceless::ffi::FACELESS_ABI_VERSION,
            "onnxruntime": {"version": info.version, "path": info.path.to_string_lossy(),
                            "found_by": info.found_by, "passed_over": info.passed_over},
            "execution_providers": providers,
        });
        println!("{v}");
    } else {
        println!(
            "faceless {} (C ABI {})",
            faceless::VERSION,
            faceless::ffi::FACELESS_ABI_VERSION
        );
        println!(
            "onnxruntime {} at {} (found: {})",
            info.version,
            info.path.display(),
            info.found_by
        );
        println!("execution providers: {}", providers.join(", "));
    }
    Ok(true)
}

fn runtime_options(run: &RunOptions) -> faceless::Result<RuntimeOptions> {
    Ok(RuntimeOptions {
        library_path: run.ort.clone(),
        // One model run per thread: the CPU budget is `--threads`, spent by
        // the core across images, pyramid levels and face batches.
        intra_threads: 0,
        execution_providers: run
            .providers
            .iter()
            .map(|p| {
                let name = p.to_possible_value().expect("no skipped variants");
                ExecutionProvider::from_name(name.get_name())
            })
            .collect::<faceless::Result<_>>()?,
    })
}

fn model_source(run: &RunOptions) -> ModelSource {
    run.models
        .clone()
        .map_or(ModelSource::Embedded, ModelSource::Directory)
}

/// The limits the command line asks for.
fn limits(run: &RunOptions) -> faceless::input::Limits {
    faceless::input::Limits {
        max_bytes: run.max_bytes,
        ..faceless::input::Limits::with_max_pixels(run.max_pixels)
    }
}

/// Whether `path` is the `-` that names standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Standard input, when `-` is among the inputs: read whole within the byte
/// limit before the batch starts. A failure to read it is that input's
/// error, reported in its place.
struct Stdin(Option<faceless::Result<Vec<u8>>>);

impl Stdin {
    fn read_if_named(files: &[PathBuf], limits: &faceless::input::Limits) -> Self {
        if !files.iter().any(|p| is_stdin(p)) {
            return Stdin(None);
        }
        use std::io::Read;
        let mut bytes = Vec::new();
        let read = std::io::stdin()
            .lock()
            .take(limits.byte_limit().saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| faceless::Error::Io {
                path: PathBuf::from("-"),
                source,
            })
            .and_then(|_| limits.check_bytes(bytes.len() as u64))
            .map(|()| bytes);
        Stdin(Some(read))
    }

    /// The batch's inputs: paths, and the bytes read for `-`.
    fn inputs<'a>(&'a self, files: &'a [PathBuf]) -> Vec<ImageInput<'a>> {
        files
            .iter()
            .map(|p| match (&self.0, is_stdin(p)) {
                (Some(Ok(bytes)), true) => ImageInput::Encoded(bytes),
                (Some(Err(_)), true) => ImageInput::Encoded(&[]),
                _ => ImageInput::Path(p),
            })
            .collect()
    }

    /// `outcome` for `path`, or the error that reading stdin met.
    fn outcome<T>(&self, path: &Path, outcome: faceless::Result<T>) -> faceless::Result<T> {
        match (&self.0, is_stdin(path)) {
            (Some(Err(e)), true) => Err(faceless::Error::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            }),
            _ => outcome,
        }
    }
}

/// `-` may be given once: standard input can be read only once.
fn check_stdin_once(inputs: &[PathBuf]) -> Result<(), Failure> {
    if inputs.iter().filter(|p| is_stdin(p)).count() > 1 {
        return Err(Failure::Usage(
            "`-` (standard input) may be given only once".into(),
        ));
    }
    Ok(())
}

/// The files to process, whether every input was usable, and the summary of
/// what was skipped (for the end of the run).
fn expand_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, bool, Option<String>) {
    let walk = walk::expand(inputs);
    let mut ok = !walk.failed;
    let summary = walk.summary();
    if walk.files.is_empty() {
        eprintln!(
            "faceless: no image to process in the {} input(s) given{}",
            inputs.len(),
            summary
                .as_deref()
                .map_or(String::new(), |s| format!(" ({s})"))
        );
        ok = false;
        return (walk.files, ok, None);
    }
    (walk.files, ok, summary)
}

/// `faceless detect`: returns whether every image was read.
fn detect(args: &DetectArgs) -> Result<bool, Failure> {
    let run = &args.run;
    check_stdin_once(&args.inputs)?;
    let detector = Detector::builder()
        .max_sessions(run.threads)
        .runtime(runtime_options(run)?)
        .models(model_source(run))
        .min_face_size(run.min_face)
        .build()?;
    let limits = limits(run);
    let (files, mut all_ok, summary) = expand_inputs(&args.inputs);
    let stdin = Stdin::read_if_named(&files, &limits);
    let inputs = stdin.inputs(&files);
    let mut out = std::io::stdout().lock();
    let mut stdout_open = true;
    // Images run in parallel on the CPU budget and come back in input order.
    detector.detect_batch_each(&inputs, &limits, |i, result| {
        let path = &files[i];
        match stdin.outcome(path, result) {
            Ok((size, faces)) => {
                let report = Report {
                    path,
                    size,
                    faces: Faces::Detected(&faces),
                };
                // stdout closed (e.g. `| head`): the rest is not wanted.
                stdout_open = stdout_open && report.write(&mut out, run.json).is_ok();
            }
            Err(e) => {
                eprintln!("faceless: {}: {e}", path.display());
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
fn analyze(args: &AnalyzeArgs) -> Result<bool, Failure> {
    let run = &args.run;
    check_stdin_once(&args.inputs)?;
    let mut target = match &args.draw {
        Some(out) => Some(draw::plan(out, &args.inputs).map_err(Failure::Usage)?),
        None => None,
    };
    let limits = limits(run);
    let pipeline = Pipeline::builder()
        .max_sessions(run.threads)
        .runtime(runtime_options(run)?)
        .models(model_source(run))
        .min_face_size(run.min_face)
        .max_pixels(limits.max_pixels)
        .max_input_bytes(limits.max_bytes)
        .classifier(args.classifier.into())
        .build()?;
    let (files, mut all_ok, summary) = expand_inputs(&args.inputs);
    let progress = std::io::stderr().is_terminal() && files.len() > 1;

    let stdin = Stdin::read_if_named(&files, &limits);
    let inputs = stdin.inputs(&files);
    let mode = if args.aligned {
        BatchMode::ClassifyAligned
    } else {
        BatchMode::Analyze
    };
    let mut out = std::io::stdout().lock();
    let mut stdout_open = true;
    // The pipeline runs the images on several threads and hands them back
    // in input order as they complete.
    pipeline.analyze_batch_each(&inputs, mode, |i, outcome| {
        let path = &files[i];
        let outcome = stdin.outcome(path, outcome);
        let clear = if progress { "\r\x1b[K" } else { "" };
        match outcome {
            Ok(ImageAnalysis {
                width,
                height,
                image,
                faces,
            }) => {
                let report = Report {
                    path,
                    size: (width, height),
                    faces: Faces::Analysed(&faces),
                };
                stdout_open = stdout_open && report.write(&mut out, run.json).is_ok();
                // Files and standard input are always decoded into an image.
                if let (Some(target), Some(mut image)) = (target.as_mut(), image) {
                    let dest = target.destination(path);
                    draw::annotate(&mut image, &faces);
                    match image.save(&dest) {
                        Ok(()) => eprintln!("{clear}faceless: drew {}", dest.display()),
                        Err(e) => {
                            eprintln!("{clear}faceless: cannot write {}: {e}", dest.display());
                            all_ok = false;
                        }
                    }
                }
            }
            Err(e) => {
                // Clear the progress line first so the message stands alone.
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
