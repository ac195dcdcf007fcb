//! The RGB pixels the model stages read: the caller's own where they are
//! already packed 8-bit RGB (a camera frame is read where it lies, not
//! copied), or an image decoded or converted from what the caller gave.

use std::ops::Deref;

use image::{ImageBuffer, Rgb, RgbImage};

/// Packed 8-bit RGB pixels, borrowed.
pub type Frame<'a> = ImageBuffer<Rgb<u8>, &'a [u8]>;

/// `img`'s pixels as a [`Frame`] (an `RgbImage`, or another frame).
pub fn frame<C: Deref<Target = [u8]>>(img: &ImageBuffer<Rgb<u8>, C>) -> Frame<'_> {
    let (w, h) = img.dimensions();
    Frame::from_raw(w, h, &img.as_raw()[..]).expect("an image buffer holds its own pixels")
}

/// One input's pixels: the caller's, or an image made from them.
#[derive(Debug)]
pub enum Pixels<'a> {
    /// The caller's buffer, packed RGB.
    Borrowed(Frame<'a>),
    /// Decoded from a file or bytes, or converted from another layout.
    Owned(RgbImage),
}

impl Pixels<'_> {
    /// The pixels to read.
    pub fn frame(&self) -> Frame<'_> {
        match self {
            Pixels::Borrowed(f) => frame(f),
            Pixels::Owned(img) => frame(img),
        }
    }

    /// Width and height.
    pub fn dimensions(&self) -> (u32, u32) {
        self.frame().dimensions()
    }

    /// The image, where one was made (`None`: the caller's buffer was read
    /// in place).
    pub fn into_image(self) -> Option<RgbImage> {
        match self {
            Pixels::Borrowed(_) => None,
            Pixels::Owned(img) => Some(img),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{ImageInput, Limits, PixelFormat};

    #[test]
    fn packed_rgb_is_read_in_place_and_other_layouts_are_converted() {
        let px: Vec<u8> = (0..2 * 3 * 3).map(|v| v as u8).collect();
        let input = |stride, format| ImageInput::Pixels {
            data: &px,
            width: 2,
            height: 3,
            stride,
            format,
        };
        let limits = Limits::default();
        let packed = input(6, PixelFormat::Rgb).pixels(&limits).unwrap();
        assert!(matches!(packed, Pixels::Borrowed(_)));
        assert_eq!(packed.frame().as_raw().as_ptr(), px.as_ptr());
        assert_eq!(packed.frame().get_pixel(1, 2).0, [15, 16, 17]);
        // Padded rows and other formats are copied into an image.
        let padded = input(6, PixelFormat::Bgr).pixels(&limits).unwrap();
        assert_eq!(padded.frame().get_pixel(1, 2).0, [17, 16, 15]);
        assert!(padded.into_image().is_some());
        let short = ImageInput::Pixels {
            data: &px[..17],
            width: 2,
            height: 3,
            stride: 6,
            format: PixelFormat::Rgb,
        };
        assert!(short.pixels(&limits).is_err());
    }
}
