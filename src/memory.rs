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
