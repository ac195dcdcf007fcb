//! Raw pixel buffers handed over by callers (camera frames, other toolkits).

use image::RgbImage;

use super::{check_size, Frame};
use crate::error::{Error, Result};

/// Layout of one pixel in a raw buffer; 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum PixelFormat {
    /// Red, green, blue.
    Rgb = 0,
    /// Blue, green, red (OpenCV's default).
    Bgr = 1,
    /// Red, green, blue, alpha (alpha ignored).
    Rgba = 2,
    /// Blue, green, red, alpha (alpha ignored; Windows bitmaps).
    Bgra = 3,
    /// One gray channel.
    Gray8 = 4,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            Self::Rgb | Self::Bgr => 3,
            Self::Rgba | Self::Bgra => 4,
            Self::Gray8 => 1,
        }
    }
}

/// Copies a raw pixel buffer into an RGB image.
///
/// `stride` is the distance in bytes between the starts of two rows; it must
/// be at least `width × bytes per pixel`, and `pixels` must hold
/// `stride × height` bytes.
pub fn from_raw(
    pixels: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    format: PixelFormat,
    max_pixels: u64,
) -> Result<RgbImage> {
    let raw = RawPixels {
        data: pixels,
        width,
        height,
        stride,
        format,
    };
    raw.convert(max_pixels)
}

/// A caller's buffer: `height` rows of `width` pixels in `format`, each row
/// starting `stride` bytes after the previous one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawPixels<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub format: PixelFormat,
}

impl<'a> RawPixels<'a> {
    /// The size limit and the buffer's geometry; returns the bytes of one row.
    fn check(&self, max_pixels: u64) -> Result<usize> {
        let Self {
            data,
            width,
            height,
            stride,
            format,
        } = *self;
        check_size(u64::from(width), u64::from(height), max_pixels)?;
        let row = width as usize * format.bytes_per_pixel();
        if stride < row {
            return Err(Error::InvalidArgument(format!(
                "stride {stride} is shorter than a row of {width} {format:?} pixels ({row} bytes)"
            )));
        }
        let needed = stride
            .checked_mul(height as usize)
            .ok_or_else(|| Error::InvalidArgument("stride × height overflows".into()))?;
        if data.len() < needed {
            return Err(Error::InvalidArgument(format!(
                "pixel buffer holds {} bytes, stride × height needs {needed}",
                data.len()
            )));
        }
        Ok(row)
    }

    /// The pixels in place, without a copy, where they are packed RGB (no
    /// padding between rows); `None` for any other layout, which
    /// [`RawPixels::convert`] converts. Checked as that checks.
    pub(crate) fn borrow_packed(&self, max_pixels: u64) -> Result<Option<Frame<'a>>> {
        let row = self.check(max_pixels)?;
        if self.format != PixelFormat::Rgb || self.stride != row {
            return Ok(None);
        }
        let packed = &self.data[..row * self.height as usize];
        Ok(Frame::from_raw(self.width, self.height, packed))
    }

    /// The pixels copied into an RGB image ([`from_raw`]).
    pub(crate) fn convert(&self, max_pixels: u64) -> Result<RgbImage> {
        let row = self.check(max_pixels)?;
        let (width, height, stride) = (self.width, self.height, self.stride);
        let mut out = Vec::with_capacity(width as usize * height as usize * 3);
        for y in 0..height as usize {
            let line = &self.data[y * stride..y * stride + row];
            match self.format {
                PixelFormat::Rgb => out.extend_from_slice(line),
                PixelFormat::Bgr => line
                    .chunks_exact(3)
                    .for_each(|p| out.extend_from_slice(&[p[2], p[1], p[0]])),
                PixelFormat::Rgba => line
                    .chunks_exact(4)
                    .for_each(|p| out.extend_from_slice(&p[..3])),
                PixelFormat::Bgra => line
                    .chunks_exact(4)
                    .for_each(|p| out.extend_from_slice(&[p[2], p[1], p[0]])),
                PixelFormat::Gray8 => line.iter().for_each(|&g| out.extend_from_slice(&[g, g, g])),
            }
        }
        Ok(RgbImage::from_raw(width, height, out).expect("buffer sized from width and height"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgr_with_padding() {
        // 2x2 BGR with a stride of 8 (2 bytes of padding per row).
        let px = [1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12, 0, 0];
        let img = from_raw(&px, 2, 2, 8, PixelFormat::Bgr, 100).unwrap();
        assert_eq!(img.get_pixel(0, 0).0, [3, 2, 1]);
        assert_eq!(img.get_pixel(1, 1).0, [12, 11, 10]);
    }

    #[test]
    fn rejects_bad_geometry() {
        let px = [0u8; 12];
        assert!(matches!(
            from_raw(&px, 2, 2, 5, PixelFormat::Rgb, 100),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            from_raw(&px, 2, 3, 6, PixelFormat::Rgb, 100),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            from_raw(&px, 0, 2, 6, PixelFormat::Rgb, 100),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            from_raw(&px, 2, 2, 6, PixelFormat::Rgb, 3),
            Err(Error::ImageTooLarge { .. })
        ));
        assert!(matches!(
            from_raw(
                &px,
                u32::MAX,
                u32::MAX,
                usize::MAX,
                PixelFormat::Rgb,
                u64::MAX
            ),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn gray_and_bgra() {
        let img = from_raw(&[9, 200], 2, 1, 2, PixelFormat::Gray8, 100).unwrap();
        assert_eq!(img.get_pixel(1, 0).0, [200, 200, 200]);
        let img = from_raw(&[1, 2, 3, 255], 1, 1, 4, PixelFormat::Bgra, 100).unwrap();
        assert_eq!(img.get_pixel(0, 0).0, [3, 2, 1]);
    }
}
