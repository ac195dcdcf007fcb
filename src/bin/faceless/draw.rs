//! `--draw`: the image with each face's box, landmarks and a label, and
//! where each drawing goes.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};

use super::font::glyph;
use faceless::FaceAnalysis;

const BOX: Rgb<u8> = Rgb([0, 230, 64]);
const MARK: Rgb<u8> = Rgb([255, 40, 40]);
const INK: Rgb<u8> = Rgb([255, 255, 255]);
const PAPER: Rgb<u8> = Rgb([0, 0, 0]);

/// The extensions `--draw FILE` accepts (the encoders this build has).
const WRITABLE: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

/// Where the drawings of one run go.
#[derive(Debug)]
pub enum Target {
    /// One input, one named file.
    File(PathBuf),
    /// A directory receiving `<name>.faceless.png` per image; names already
    /// given in this run get a number, so no drawing replaces another.
    Dir {
        dir: PathBuf,
        used: HashSet<OsString>,
    },
}

/// Image extensions faceless neither reads nor writes: still file names.
const OTHER_IMAGES: [&str; 2] = ["tif", "tiff"];

fn extension_in(path: &Path, list: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| list.contains(&e.to_ascii_lowercase().as_str()))
}

/// Whether `path` is named like an image file (one the walk would pick up,
/// one we can write, or another common image format).
fn looks_like_an_image(path: &Path) -> bool {
    super::walk::has_image_extension(path)
        || extension_in(path, &WRITABLE)
        || extension_in(path, &OTHER_IMAGES)
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Decides where drawings go, before any image is processed, or says why
/// `out` is refused: an ambiguous or unwritable target must not be guessed.
pub fn plan(out: &Path, inputs: &[PathBuf]) -> Result<Target, String> {
    let single = inputs.len() == 1 && !inputs[0].is_dir();
    let shown = out.display();
    if inputs.iter().any(|i| same_file(i, out)) {
        return Err(format!(
            "--draw {shown} is one of the inputs; it would be overwritten"
        ));
    }
    let trailing_slash = out.as_os_str().to_string_lossy().ends_with('/');
    if single && !out.is_dir() && !trailing_slash {
        if !extension_in(out, &WRITABLE) {
            return Err(format!(
                "--draw {shown}: with one input, name an image file ending in .png, .jpg or \
                 .bmp, or an existing directory"
            ));
        }
        return Ok(Target::File(out.to_path_buf()));
    }
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "--draw {shown} is an existing file, but there are several inputs (or a directory): \
             name a directory"
        ));
    }
    if !out.exists() && looks_like_an_image(out) && !trailing_slash {
        return Err(format!(
            "--draw {shown} looks like an image file name, but there are several inputs (or a \
             directory): name a directory (it is created), or end the name with /"
        ));
    }
    std::fs::create_dir_all(out).map_err(|e| format!("--draw {shown}: cannot create: {e}"))?;
    Ok(Target::Dir {
        dir: out.to_path_buf(),
        used: HashSet::new(),
    })
}

impl Target {
    /// The file the drawing of `input` goes to.
    pub fn destination(&mut self, input: &Path) -> PathBuf {
        match self {
            Target::File(f) => f.clone(),
            Target::Dir { dir, used } => {
                let base = if input.as_os_str() == "-" {
                    OsString::from("stdin")
                } else {
                    input
                        .file_name()
                        .map_or_else(|| "image".into(), |s| s.to_os_string())
                };
                let mut n = 1;
                loop {
                    let mut name = base.clone();
                    if n > 1 {
                        name.push(format!(".{n}"));
                    }
                    name.push(".faceless.png");
                    if used.insert(name.clone()) {
                        return dir.join(name);
                    }
                    n += 1;
                }
            }
        }
    }
}

pub fn annotate(img: &mut RgbImage, faces: &[FaceAnalysis]) {
    // Lines and text grow with the picture so they stay legible.
    let thick = (img.width().max(img.height()) / 400).max(1);
    let scale = (img.width().max(img.height()) / 500).clamp(1, 4);
    for fa in faces {
        let [x1, y1, x2, y2] = fa.face.bbox.map(|v| v.round() as i64);
        for t in 0..i64::from(thick) {
            rect(img, x1 - t, y1 - t, x2 + t, y2 + t, BOX);
        }
        let r = i64::from(thick) + 1;
        for p in fa.face.landmarks {
            let (px, py) = (p[0].round() as i64, p[1].round() as i64);
            fill(img, px - r, py - r, px + r, py + r, MARK);
        }
    }
    // Labels last, so no box or landmark of a neighbour covers them.
    for fa in faces {
        let [x1, y1, _, y2] = fa.face.bbox.map(|v| v.round() as i64);
        let a = &fa.attributes;
        let label = format!(
            "#{} {} {:.0}% {:.0}y {} {:.0}%",
            fa.id,
            a.gender.label,
            a.gender.prob * 100.0,
            a.age_years,
            a.ethnicity.label,
            a.ethnicity.prob * 100.0
        );
        let h = 9 * i64::from(scale);
        let ty = if y1 - h > 0 { y1 - h - 1 } else { y2 + 2 };
        text(img, x1, ty, &label, scale);
    }
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && x < i64::from(img.width()) && y < i64::from(img.height()) {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn rect(img: &mut RgbImage, x1: i64, y1: i64, x2: i64, y2: i64, c: Rgb<u8>) {
    for x in x1..=x2 {
        put(img, x, y1, c);
        put(img, x, y2, c);
    }
    for y in y1..=y2 {
        put(img, x1, y, c);
        put(img, x2, y, c);
    }
}

fn fill(img: &mut RgbImage, x1: i64, y1: i64, x2: i64, y2: i64, c: Rgb<u8>) {
    for y in y1..=y2 {
        for x in x1..=x2 {
            put(img, x, y, c);
        }
    }
}

/// Writes `s` with its top-left at (x, y) on a dark band, `scale` pixels per dot.
fn text(img: &mut RgbImage, x: i64, y: i64, s: &str, scale: u32) {
    let k = i64::from(scale);
    let width = s.chars().count() as i64 * 6 * k + k;
    fill(img, x, y, x + width, y + 9 * k, PAPER);
    for (i, ch) in s.chars().enumerate() {
        let ox = x + k + i as i64 * 6 * k;
        for (row, bits) in glyph(ch).iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) != 0 {
                    let (px, py) = (ox + col * k, y + k + row as i64 * k);
                    fill(img, px, py, px + k - 1, py + k - 1, INK);
                }
            }
        }
    }
}
