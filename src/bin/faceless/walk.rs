//! Expanding the command line's files and directories into image paths.

use std::path::{Path, PathBuf};

const EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "bmp", "webp", "gif", "jfif"];

/// Files are kept as given (even with odd extensions: the decoder decides);
/// directories are walked recursively for image files, in sorted order.
pub fn expand(inputs: &[PathBuf]) -> Vec<Result<PathBuf, String>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut out);
        } else {
            out.push(Ok(input.clone()));
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<Result<PathBuf, String>>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            out.push(Err(format!("{}: {e}", dir.display())));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(Ok(p));
        }
    }
}
