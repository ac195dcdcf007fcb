//! Encoded images: JPEG, PNG, BMP, WebP and GIF (first frame).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use super::check_size;
use crate::error::{Error, Result};

/// Reads and decodes an image file, applying its EXIF orientation.
pub fn decode_path(path: impl AsRef<Path>, max_pixels: u64) -> Result<RgbImage> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_bytes(&bytes, max_pixels)
}

/// Decodes an encoded image held in memory, applying its EXIF orientation.
///
/// Grayscale, alpha and 16-bit images are converted to 8-bit RGB (alpha is
/// dropped). The size is checked against `max_pixels` before any pixel is
/// decoded, so a forged header cannot exhaust memory.
pub fn decode_bytes(bytes: &[u8], max_pixels: u64) -> Result<RgbImage> {
    if bytes.is_empty() {
        return Err(Error::InvalidArgument("image data is empty".into()));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::Decode(e.to_string()))?;
    if reader.format().is_none() {
        return Err(Error::Decode(
            "unrecognised format (supported: JPEG, PNG, BMP, WebP, GIF)".into(),
        ));
    }
    let is_jpeg = reader.format() == Some(ImageFormat::Jpeg);
    // image-rs reads the header (size, EXIF) for every format; only its
    // pixels are replaced for JPEG (see `jpeg.rs`).
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| Error::Decode(e.to_string()))?;
    let (w, h) = decoder.dimensions();
    check_size(u64::from(w), u64::from(h), max_pixels)?;
    // A broken EXIF block should not cost the picture: treat it as upright.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = if is_jpeg {
        drop(decoder);
        let rgb = super::jpeg::decode(bytes)?;
        if rgb.dimensions() != (w, h) {
            return Err(Error::Decode(
                "JPEG header and data disagree on the size".into(),
            ));
        }
        DynamicImage::ImageRgb8(rgb)
    } else {
        DynamicImage::from_decoder(decoder).map_err(|e| Error::Decode(e.to_string()))?
    };
    img.apply_orientation(orientation);
    Ok(match img {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => other.to_rgb8(),
    })
}
