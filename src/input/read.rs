//! Reading an image file: regular files only, never past the byte limit.
//!
//! A FIFO would block `open` (or `read`) until some writer shows up, and a
//! character device such as `/dev/zero` never ends; both are refused before a
//! single byte is read. On Unix the file is opened with `O_NONBLOCK`, so even
//! opening a FIFO returns at once; its type is then checked on the open
//! handle (no race between the check and the read).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::limits::Limits;
use crate::error::{Error, Result};

/// What a non-regular file is, for messages.
pub fn file_kind(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NOCTTY: opening a terminal device must not make it ours.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// Reads a whole regular file, refusing other kinds of file and files longer
/// than `limits.byte_limit()`.
pub(crate) fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    let io = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not an image file", file_kind(meta.file_type())),
        )));
    }
    let max = limits.byte_limit();
    limits.check_bytes(meta.len())?;
    // The length can change under us: read at most one byte past the limit.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    limits.check_bytes(bytes.len() as u64)?;
    Ok(bytes)
}
