//! Giving memory back after a large image.
//!
//! Model runs allocate from ONNX Runtime's arenas, bounded because every
//! input is (`runtime/mod.rs`). What grows with the image is ours: the
//! decoded image, P-Net's proposals, crops. glibc keeps freed heap memory
//! for reuse and raises its mmap threshold after freeing a large block, so
//! after an image above [`LARGE_IMAGE_PIXELS`] the C allocator is asked to
//! return its free pages to the system. Smaller images keep them, which
//! saves page faults on the next image.

/// Images above this many pixels (1 megapixel) give their memory back at
/// the end of the call.
pub(crate) const LARGE_IMAGE_PIXELS: u64 = 1_000_000;

/// Runs `f` (the whole analysis of one image); when the image has more than
/// [`LARGE_IMAGE_PIXELS`], the allocator is trimmed afterwards.
pub(crate) fn for_image<T>(pixels: u64, f: impl FnOnce() -> T) -> T {
    struct Trim(bool);
    impl Drop for Trim {
        fn drop(&mut self) {
            if self.0 {
                trim();
            }
        }
    }
    let _trim = Trim(pixels > LARGE_IMAGE_PIXELS);
    f()
}

/// Returns the C allocator's free memory to the system (glibc only; other
/// allocators return large blocks on their own).
pub(crate) fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Drops the resident pages of model bytes compiled into the library. A
/// session parses its model into memory of its own, so once it is made the
/// embedded bytes are not read again until the next session is made; their
/// pages (tens of MB, counted in the process's resident memory) are
/// read-only and file-backed, so the kernel can drop them and read them back
/// from the library file if they are touched again. Only pages wholly inside
/// `bytes` are released.
pub(crate) fn release_static(bytes: &'static [u8]) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let Ok(page) = usize::try_from(page) else {
            return;
        };
        if page == 0 {
            return;
        }
        let start = bytes.as_ptr() as usize;
        let first = start.div_ceil(page) * page;
        let end = (start + bytes.len()) / page * page;
        if end > first {
            // SAFETY: [first, end) lies inside a 'static read-only slice of the
            // library's own image; MADV_DONTNEED on such a private file mapping
            // only drops pages that are re-read from the file on the next access,
            // so every later read of `bytes` still sees the same contents.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_DONTNEED);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}
