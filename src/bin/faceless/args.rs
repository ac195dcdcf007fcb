//! The command line's grammar, with clap: `--help`/`-h` on every
//! subcommand, `--version`/`-V`, `--` before names that start with a dash,
//! and usage errors that exit 2. File names are taken as the operating
//! system gives them: a name that is not UTF-8 is a valid input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit statuses, listed in `--help` and the README.
pub mod exit {
    /// Every input was analysed (and every drawing written).
    pub const OK: u8 = 0;
    /// Some input could not be read or decoded, or a drawing could not be
    /// written; the other inputs were still processed.
    pub const INPUT_FAILED: u8 = 1;
    /// The command line was wrong: unknown option, bad value, no input, a
    /// refused --draw target.
    pub const USAGE: u8 = 2;
    /// Nothing could be processed: ONNX Runtime or the models could not be
    /// loaded.
    pub const SETUP: u8 = 3;
}

const AFTER_HELP: &str = "\
Exit status:
  0  every input was analysed (and every drawing written)
  1  some input could not be read or decoded, or a drawing could not be
     written; the other inputs were still processed and reported
  2  usage error: unknown option, bad value, no input, a refused --draw
     target
  3  nothing processed: ONNX Runtime or the models could not be loaded

ONNX Runtime 1.31.1 is searched for in this order: --ort (file or folder),
ORT_DYLIB_PATH (file or folder), the folder of libfaceless, the folder of
this executable and its parent, then the system loader (LD_LIBRARY_PATH,
ldconfig). A library found but unusable is reported and passed over.
`faceless version` says which one is used.";

const INPUT_HELP: &str = "\
Image files (JPEG, PNG, BMP, WebP, GIF) or directories, walked like `find -L`: links followed, \
each directory and file once, files without an image extension counted and skipped, FIFOs, \
sockets and devices skipped unopened; a summary of what was skipped goes to stderr. `-` reads one \
image from standard input.";

/// Detect faces and estimate age, gender and ethnicity, with a probability
/// for every answer.
#[derive(Debug, Parser)]
#[command(
    name = "faceless",
    disable_version_flag = true,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Print the versions of faceless and of the ONNX Runtime in use, and its
    /// execution providers (as `faceless version`)
    #[arg(short = 'V', long = "version", exclusive = true)]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find every face: box, score and five landmarks
    #[command(after_help = AFTER_HELP)]
    Detect(DetectArgs),
    /// Find every face and classify it: age, age group, gender, ethnicity,
    /// each with its probabilities
    #[command(after_help = AFTER_HELP)]
    Analyze(AnalyzeArgs),
    /// Print the versions of faceless and of the ONNX Runtime in use (path,
    /// how it was found) and the available execution providers
    #[command(after_help = AFTER_HELP)]
    Version(VersionArgs),
}

/// Options every command that runs the models takes.
#[derive(Debug, Args)]
pub struct RunOptions {
    /// One JSON object per image and line (schema: schemas/faceless-cli.schema.json)
    /// instead of Python literals
    #[arg(long)]
    pub json: bool,

    /// Smallest face side to look for, in pixels
    #[arg(long, value_name = "PIXELS", default_value_t = 20.0)]
    pub min_face: f32,

    /// CPU threads to use, in all: images, pyramid levels and face batches
    /// are spread over them, one model run per thread (0: every core)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Execution providers in order of preference, comma separated or
    /// repeated (CPU stays the fallback)
    #[arg(
        long = "provider",
        value_name = "NAME",
        value_enum,
        value_delimiter = ','
    )]
    pub providers: Vec<Provider>,

    /// Load the models from DIR instead of the ones built into faceless
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,

    /// The ONNX Runtime library, or a folder holding it (see below for the
    /// search without it)
    #[arg(long, value_name = "PATH")]
    pub ort: Option<PathBuf>,

    /// Largest image accepted, as width x height
    #[arg(long, value_name = "N", default_value_t = 40_000_000)]
    pub max_pixels: u64,

    /// Largest file read, in bytes (0: 3 x max-pixels + 1 MiB)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_bytes: u64,
}

/// Execution providers by their command-line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    Cpu,
    Cuda,
    Tensorrt,
    Coreml,
    Directml,
}

/// The classifiers by their command-line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassifierArg {
    Accurate,
    Fast,
}

impl From<ClassifierArg> for faceless::ClassifierChoice {
    fn from(c: ClassifierArg) -> Self {
        match c {
            ClassifierArg::Accurate => faceless::ClassifierChoice::Accurate,
            ClassifierArg::Fast => faceless::ClassifierChoice::Fast,
        }
    }
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    #[command(flatten)]
    pub run: RunOptions,

    #[arg(value_name = "IMAGE_OR_DIR", required = true, help = INPUT_HELP)]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub run: RunOptions,

    /// Each input is one face chip already aligned to the classifier's
    /// template: classify it whole, without detection
    #[arg(long)]
    pub aligned: bool,

    /// Which classifier runs: `accurate`, or `fast`, which takes less time
    /// and memory per face for somewhat lower accuracy (MODEL_CARD.md,
    /// "Accuracy against cost")
    #[arg(long, value_name = "NAME", value_enum, default_value_t = ClassifierArg::Accurate)]
    pub classifier: ClassifierArg,

    /// Also write each image with boxes, landmarks and labels drawn. With one
    /// input file, OUT is the image file to write (its extension picks the
    /// format: .png, .jpg, .bmp), or an existing directory to
    /// write into. With several inputs or a directory, OUT is a directory
    /// (created if missing) receiving <name>.faceless.png per image; a name
    /// with an image extension, an existing file, or an input's own path is
    /// refused. Each written path is printed on stderr.
    #[arg(long, value_name = "OUT")]
    pub draw: Option<PathBuf>,

    #[arg(value_name = "IMAGE_OR_DIR", required = true, help = INPUT_HELP)]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// The ONNX Runtime library, or a folder holding it
    #[arg(long, value_name = "PATH")]
    pub ort: Option<PathBuf>,

    /// Print the versions as one JSON object
    #[arg(long)]
    pub json: bool,
}
