//! Expanding the command line's files and directories into image paths, the
//! way `find -L` walks: symbolic links are followed, a directory reached
//! again (a symlink loop, or two links to one folder) is walked once, a file
//! reached by several paths is analysed once, and FIFOs, sockets and devices
//! are skipped with a message without ever being opened. Names are kept as
//! the operating system gives them (`OsString`), UTF-8 or not.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

const EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "bmp", "webp", "gif", "jfif"];

/// A file's identity: device and inode on Unix (the path elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Id {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Path(PathBuf),
}

fn id(path: &Path, meta: &Metadata) -> Id {
    #[cfg(unix)]
    {
        let _ = path;
        use std::os::unix::fs::MetadataExt;
        Id::Inode(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Id::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

/// What the walk found: the files to analyse, in order, and what it left out.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular files, each once (inputs named twice on the command line are
    /// kept twice: that was asked for).
    pub files: Vec<PathBuf>,
    /// Why entries were left out, with how many of each.
    pub skipped: BTreeMap<&'static str, usize>,
    /// Whether an input named on the command line could not be used (a
    /// FIFO, a device, an unreadable directory): the exit code says so.
    pub failed: bool,
    seen_files: HashSet<Id>,
    seen_dirs: HashSet<Id>,
}

impl Walk {
    fn skip(&mut self, path: &Path, why: &'static str, detail: &str) {
        eprintln!("faceless: {}: skipped: {detail}", path.display());
        *self.skipped.entry(why).or_default() += 1;
    }

    /// One line for stderr saying what was skipped, if anything was.
    pub fn summary(&self) -> Option<String> {
        if self.skipped.is_empty() {
            return None;
        }
        let total: usize = self.skipped.values().sum();
        let parts: Vec<String> = self
            .skipped
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        Some(format!("skipped {total}: {}", parts.join(", ")))
    }
}

pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn kind(meta: &Metadata) -> &'static str {
    faceless::input::file_kind(meta.file_type())
}

/// Files are kept as given (even with odd extensions: the decoder decides);
/// directories are walked recursively for image files, in sorted order.
pub fn expand(inputs: &[PathBuf]) -> Walk {
    let mut w = Walk::default();
    for input in inputs {
        if input.as_os_str() == "-" {
            // Standard input: never a file named "-" (write ./- for that).
            w.files.push(input.clone());
            continue;
        }
        match std::fs::metadata(input) {
            // Missing or unreadable: the decoder reports it by name.
            Err(_) => w.files.push(input.clone()),
            Ok(meta) if meta.is_dir() => {
                let dir_id = id(input, &meta);
                if w.seen_dirs.insert(dir_id.clone()) {
                    walk(input, &mut vec![dir_id], &mut w);
                } else {
                    w.skip(
                        input,
                        "directories already walked",
                        "directory already walked",
                    );
                }
            }
            Ok(meta) if meta.is_file() => {
                w.seen_files.insert(id(input, &meta));
                w.files.push(input.clone());
            }
            Ok(meta) => {
                w.skip(
                    input,
                    "FIFOs, sockets or devices",
                    &format!("{} is not an image file (not opened)", kind(&meta)),
                );
                w.failed = true;
            }
        }
    }
    w
}

fn walk(dir: &Path, ancestors: &mut Vec<Id>, w: &mut Walk) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("faceless: {}: {e}", dir.display());
            *w.skipped.entry("unreadable directories").or_default() += 1;
            w.failed = true;
            return;
        }
    };
    let mut names: Vec<OsString> = entries
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    for name in names {
        let p = dir.join(&name);
        let meta = match std::fs::metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                w.skip(&p, "unreadable entries", &format!("cannot stat: {e}"));
                continue;
            }
        };
        if meta.is_dir() {
            let dir_id = id(&p, &meta);
            if ancestors.contains(&dir_id) {
                w.skip(
                    &p,
                    "symlink loops",
                    "symlink loop (leads back to a directory being walked)",
                );
            } else if !w.seen_dirs.insert(dir_id.clone()) {
                w.skip(
                    &p,
                    "directories already walked",
                    "directory already walked by another path",
                );
            } else {
                ancestors.push(dir_id);
                walk(&p, ancestors, w);
                ancestors.pop();
            }
        } else if !meta.is_file() {
            w.skip(
                &p,
                "FIFOs, sockets or devices",
                &format!("{} is not an image file (not opened)", kind(&meta)),
            );
        } else if !has_image_extension(&p) {
            *w.skipped
                .entry("files without an image extension")
                .or_default() += 1;
        } else if !w.seen_files.insert(id(&p, &meta)) {
            w.skip(
                &p,
                "files already listed",
                "same file as one already listed",
            );
        } else {
            w.files.push(p);
        }
    }
}
