//! Giving memory back after a large image.
//!
//! ONNX Runtime's CPU arena grows to the largest tensors a session has seen
//! and keeps them: after one 256×65500 image a pipeline stayed at ~1 GB for
//! every later small image. Calls on images above [`LARGE_IMAGE_PIXELS`] run
//! with the arena's shrinkage on (`memory.enable_memory_arena_shrinkage`:
//! each run frees the arena regions it no longer uses when it ends), and
//! then ask the C allocator to return its free pages to the system. Smaller
//! images keep the arena, which is what makes repeated calls fast.

use std::cell::Cell;

/// Images above this many pixels (1 megapixel) give their memory back at
/// the end of the call. Below it the arena keeps at most what a 1 MP image
/// needs (a process analysing 1 MP images peaks at about 200 MB: README,
/// "Limits").
pub(crate) const LARGE_IMAGE_PIXELS: u64 = 1_000_000;

thread_local! {
    static SHRINK: Cell<bool> = const { Cell::new(false) };
}

/// Whether model runs on this thread should shrink the arena when they end.
pub(crate) fn shrinking() -> bool {
    SHRINK.with(|s| s.get())
}

/// Runs `f` (the whole analysis of one image, on this thread); when the
/// image has more than [`LARGE_IMAGE_PIXELS`], every model run inside
/// shrinks its arena and the allocator is trimmed afterwards.
pub(crate) fn for_image<T>(pixels: u64, f: impl FnOnce() -> T) -> T {
    if pixels <= LARGE_IMAGE_PIXELS {
        return f();
    }
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            SHRINK.with(|s| s.set(self.0));
            trim();
        }
    }
    let _reset = Reset(SHRINK.with(|s| s.replace(true)));
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
