//! How much work one image may cost: pixels, encoded bytes, and pixels per
//! encoded byte. Every check here runs on what a header declares, before any
//! pixel buffer is allocated.
//!
//! Cost of one image, as a function of its pixel count `P` (measured, see
//! the README's "Limits" section): decoding holds the RGB result (3 bytes per
//! pixel) plus the decoder's own buffer (up to 4 bytes per pixel for RGBA,
//! 8 for 16-bit RGBA PNG); detection then builds an image pyramid and runs
//! P-Net on each level, whose largest level is `(12 / min_face)²·P` pixels.

use crate::error::{Error, Result};

/// Default limit on width × height: 40 megapixels.
///
/// Why 40: it covers every photo a product is likely to be handed (12 MP
/// phone pictures, 24–36 MP full-frame cameras, 8K video frames at 33 MP)
/// while refusing what would cost several gigabytes to analyse: detecting on
/// a 40 MP image already peaks at about 2.4 GB (README, "Limits"), about
/// 55 bytes per pixel, so the limit is also a memory budget per call.
/// Callers that need more raise it ([`Limits::max_pixels`]).
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

/// Default limit on declared pixels per encoded byte, for images above
/// [`DENSITY_FLOOR_PIXELS`].
///
/// Photographs compress 5–20 : 1 as JPEG and 2–3 : 1 as PNG, i.e. well under
/// 10 pixels per byte. A flat JPEG reaches about 170 pixels per byte; a flat
/// RGB PNG about 340 (deflate's ceiling is ~1030 : 1); a GIF whose logical
/// screen is large and whose one frame is tiny, or a JPEG whose header
/// declares a size its data does not hold, reach millions. 250 refuses those
/// "small file, huge work" inputs and no photograph.
pub const DEFAULT_MAX_PIXELS_PER_BYTE: u64 = 250;

/// Images at or under this many pixels are never refused for their density:
/// decoding a flat 4 MP image is cheap, and blank images are legitimate.
pub const DENSITY_FLOOR_PIXELS: u64 = 4_000_000;

/// Room for metadata (EXIF, ICC profiles, thumbnails) above the pixel data
/// when the byte limit is derived from the pixel limit.
const METADATA_ALLOWANCE: u64 = 1 << 20;

/// What one image may cost; see each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest width × height accepted (default [`DEFAULT_MAX_PIXELS`]).
    /// Checked on the header, and for GIF on the first frame's rectangle too.
    pub max_pixels: u64,
    /// Largest encoded input (file or buffer) in bytes; `0` (default) means
    /// 3 bytes per allowed pixel plus 1 MiB: an uncompressed 24-bit image of
    /// `max_pixels` with its metadata. Files are never read past it.
    pub max_bytes: u64,
    /// Most declared pixels per encoded byte for images above
    /// [`DENSITY_FLOOR_PIXELS`] (default [`DEFAULT_MAX_PIXELS_PER_BYTE`]);
    /// `u64::MAX` turns the check off.
    pub max_pixels_per_byte: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: DEFAULT_MAX_PIXELS,
            max_bytes: 0,
            max_pixels_per_byte: DEFAULT_MAX_PIXELS_PER_BYTE,
        }
    }
}

impl Limits {
    /// The defaults with another pixel limit (`0` keeps the default).
    pub fn with_max_pixels(max_pixels: u64) -> Self {
        Limits {
            max_pixels: if max_pixels == 0 {
                DEFAULT_MAX_PIXELS
            } else {
                max_pixels
            },
            ..Limits::default()
        }
    }

    /// The byte limit in force: `max_bytes`, or the one derived from
    /// `max_pixels` when it is 0.
    pub fn byte_limit(&self) -> u64 {
        if self.max_bytes > 0 {
            self.max_bytes
        } else {
            self.max_pixels
                .saturating_mul(3)
                .saturating_add(METADATA_ALLOWANCE)
        }
    }

    /// Refuses encoded input longer than the byte limit.
    pub fn check_bytes(&self, len: u64) -> Result<()> {
        let max_bytes = self.byte_limit();
        if len > max_bytes {
            return Err(Error::InputTooLarge {
                bytes: len,
                max_bytes,
            });
        }
        Ok(())
    }

    /// Checks a size declared by an encoded image's header against the pixel
    /// limit and, above the floor, against the encoded length. A zero side is
    /// a decode error: the data, not the caller, is wrong.
    pub fn check_declared(&self, width: u64, height: u64, encoded_len: u64) -> Result<()> {
        if width == 0 || height == 0 {
            return Err(Error::Decode(format!(
                "the header declares a zero size ({width}x{height})"
            )));
        }
        check_size(width, height, self.max_pixels)?;
        let pixels = width * height; // no overflow: checked above
        if pixels > DENSITY_FLOOR_PIXELS && pixels / encoded_len.max(1) > self.max_pixels_per_byte {
            return Err(Error::ImplausibleSize {
                width,
                height,
                bytes: encoded_len,
                max_pixels_per_byte: self.max_pixels_per_byte,
            });
        }
        Ok(())
    }
}

/// Checks a size against a pixel limit; zero sides are invalid arguments
/// (for raw buffers and images the caller built).
pub(crate) fn check_size(width: u64, height: u64, max_pixels: u64) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::InvalidArgument(format!(
            "image has zero size ({width}x{height})"
        )));
    }
    if width.saturating_mul(height) > max_pixels {
        return Err(Error::ImageTooLarge {
            width,
            height,
            max_pixels,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn derived_byte_limit_follows_the_pixel_limit() {
        let l = Limits::with_max_pixels(1000);
        assert_eq!(l.byte_limit(), 3000 + (1 << 20));
        assert!(l.check_bytes(3000 + (1 << 20)).is_ok());
        assert_eq!(
            l.check_bytes(3001 + (1 << 20)).unwrap_err().kind(),
            ErrorKind::ImageTooLarge
        );
        let l = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(l.check_bytes(11).is_err());
    }

    #[test]
    fn density_is_checked_above_the_floor_only() {
        let l = Limits::default();
        // 2000x2000 = the floor: a 1-byte "image" passes this check.
        assert!(l.check_declared(2000, 2000, 1).is_ok());
        let e = l.check_declared(5000, 5000, 73_000).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ImageTooLarge, "{e}");
        assert!(l.check_declared(5000, 5000, 200_000).is_ok());
        let off = Limits {
            max_pixels_per_byte: u64::MAX,
            ..l
        };
        assert!(off.check_declared(5000, 5000, 1).is_ok());
        assert_eq!(
            l.check_declared(0, 10, 10).unwrap_err().kind(),
            ErrorKind::Decode
        );
        assert_eq!(
            l.check_declared(10_000, 10_000, u64::MAX)
                .unwrap_err()
                .kind(),
            ErrorKind::ImageTooLarge
        );
    }
}
