//! One image as a caller hands it over, before decoding: the single place
//! that dispatches on the kind of source (the C ABI and the CLI build one of
//! these and call the pipeline with it).

use std::path::Path;

use image::RgbImage;

use super::{
    decode_bytes_with, decode_path_with, from_raw, Limits, PixelFormat, Pixels, RawPixels,
};
use crate::error::Result;

/// An image to analyse: a file, encoded bytes, or raw pixels. Borrows the
/// caller's memory and is `Send`, so batch workers can decode it.
#[derive(Debug, Clone, Copy)]
pub enum ImageInput<'a> {
    /// An image file (JPEG, PNG, BMP, WebP, GIF); EXIF orientation applied.
    Path(&'a Path),
    /// The contents of an image file.
    Encoded(&'a [u8]),
    /// `height` rows of `width` pixels in `format`, each row starting
    /// `stride` bytes after the previous one (see [`super::from_raw`]).
    Pixels {
        /// The buffer.
        data: &'a [u8],
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes from the start of one row to the next.
        stride: usize,
        /// Layout of one pixel.
        format: PixelFormat,
    },
}

impl<'a> ImageInput<'a> {
    /// Decodes (or copies) the image into RGB within `limits`.
    pub fn decode(&self, limits: &Limits) -> Result<RgbImage> {
        match *self {
            ImageInput::Path(p) => decode_path_with(p, limits),
            ImageInput::Encoded(b) => decode_bytes_with(b, limits),
            ImageInput::Pixels {
                data,
                width,
                height,
                stride,
                format,
            } => from_raw(data, width, height, stride, format, limits.max_pixels),
        }
    }

    /// The image's pixels within `limits`: packed RGB pixels as they lie,
    /// anything else decoded or converted ([`ImageInput::decode`]).
    pub fn pixels(&self, limits: &Limits) -> Result<Pixels<'a>> {
        let ImageInput::Pixels {
            data,
            width,
            height,
            stride,
            format,
        } = *self
        else {
            return self.decode(limits).map(Pixels::Owned);
        };
        let raw = RawPixels {
            data,
            width,
            height,
            stride,
            format,
        };
        Ok(match raw.borrow_packed(limits.max_pixels)? {
            Some(frame) => Pixels::Borrowed(frame),
            None => Pixels::Owned(raw.convert(limits.max_pixels)?),
        })
    }
}

impl<'a> From<&'a Path> for ImageInput<'a> {
    fn from(p: &'a Path) -> Self {
        ImageInput::Path(p)
    }
}

/// A decoded image, passed as its pixels (no copy).
impl<'a> From<&'a RgbImage> for ImageInput<'a> {
    fn from(img: &'a RgbImage) -> Self {
        ImageInput::Pixels {
            data: img.as_raw(),
            width: img.width(),
            height: img.height(),
            stride: img.width() as usize * 3,
            format: PixelFormat::Rgb,
        }
    }
}
