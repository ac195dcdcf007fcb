//! Encoded images: JPEG, PNG, BMP, WebP and GIF (first frame).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use super::limits::Limits;
use crate::error::{Error, Result};

/// Reads and decodes an image file, applying its EXIF orientation, with the
/// default limits and the given pixel limit (0: the default).
pub fn decode_path(path: impl AsRef<Path>, max_pixels: u64) -> Result<RgbImage> {
    decode_path_with(path, &Limits::with_max_pixels(max_pixels))
}

/// Reads and decodes an image file within `limits`, applying its EXIF
/// orientation.
///
/// Only regular files are read (a FIFO, socket or device is an
/// [`Error::Io`] before any byte is read), and never past the byte limit.
pub fn decode_path_with(path: impl AsRef<Path>, limits: &Limits) -> Result<RgbImage> {
    let bytes = super::read::read_file(path.as_ref(), limits)?;
    decode_bytes_with(&bytes, limits)
}

/// Decodes an encoded image held in memory, applying its EXIF orientation,
/// with the default limits and the given pixel limit (0: the default).
pub fn decode_bytes(bytes: &[u8], max_pixels: u64) -> Result<RgbImage> {
    decode_bytes_with(bytes, &Limits::with_max_pixels(max_pixels))
}

/// Decodes an encoded image held in memory within `limits`, applying its
/// EXIF orientation.
///
/// Grayscale, alpha and 16-bit images are converted to 8-bit RGB as PIL does
/// (alpha dropped, 16-bit samples keep their high byte); CMYK and YCCK JPEGs
/// as PIL does too. The size the header declares is checked against the
/// limits before any pixel is decoded, so a forged header cannot exhaust
/// memory or time; a zero size in the header is [`Error::Decode`].
pub fn decode_bytes_with(bytes: &[u8], limits: &Limits) -> Result<RgbImage> {
    if bytes.is_empty() {
        return Err(Error::InvalidArgument("image data is empty".into()));
    }
    limits.check_bytes(bytes.len() as u64)?;
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(Error::decode)?;
    let format = reader.format().ok_or_else(|| {
        Error::Decode("unrecognised format (supported: JPEG, PNG, BMP, WebP, GIF)".into())
    })?;
    // image-rs's own allocation ceiling, a second line behind our checks:
    // the decoded buffer (at most 8 bytes per pixel, 16-bit RGBA) and one
    // frame or row buffer of the same size.
    let mut decoder_limits = image::Limits::no_limits();
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(16));
    reader.limits(decoder_limits);
    if format == ImageFormat::Gif {
        super::gif_frame::check_first_frame(bytes, limits)?;
    }
    // image-rs reads the header (size, EXIF) for every format; only its
    // pixels are replaced for JPEG (see `jpeg.rs`).
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (w, h) = decoder.dimensions();
    limits.check_declared(u64::from(w), u64::from(h), bytes.len() as u64)?;
    // A broken EXIF block should not cost the picture: treat it as upright.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = if format == ImageFormat::Jpeg {
        drop(decoder);
        let rgb = super::jpeg::decode(bytes, limits)?;
        if rgb.dimensions() != (w, h) {
            return Err(Error::Decode(
                "JPEG header and data disagree on the size".into(),
            ));
        }
        DynamicImage::ImageRgb8(rgb)
    } else {
        DynamicImage::from_decoder(decoder).map_err(decode_error)?
    };
    img.apply_orientation(orientation);
    Ok(super::depth::to_rgb8(img))
}

fn decode_error(e: image::ImageError) -> Error {
    match e {
        image::ImageError::Limits(l) => Error::decode(format!(
            "the image needs more memory than its pixel limit allows: {l}"
        )),
        other => Error::decode(other),
    }
}
