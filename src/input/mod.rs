//! Turning what callers hand us (files, encoded bytes, raw pixel buffers)
//! into the 8-bit RGB image every model stage works on.

mod decode;
mod jpeg;
mod raw;

pub use decode::{decode_bytes, decode_path};
pub use raw::{from_raw, PixelFormat};

/// Default limit on width × height: large enough for a 100-megapixel camera,
/// small enough that a forged header cannot make us allocate gigabytes.
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

pub(crate) fn check_size(width: u64, height: u64, max_pixels: u64) -> crate::Result<()> {
    if width == 0 || height == 0 {
        return Err(crate::Error::InvalidArgument(format!(
            "image has zero size ({width}x{height})"
        )));
    }
    if width.saturating_mul(height) > max_pixels {
        return Err(crate::Error::ImageTooLarge {
            width,
            height,
            max_pixels,
        });
    }
    Ok(())
}
