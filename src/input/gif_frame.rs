//! GIF: the first frame's own rectangle is checked before it is decoded.
//!
//! A GIF's header declares a logical screen; each frame then declares its
//! own rectangle, which may be larger than the screen (image-rs then decodes
//! the frame into a buffer of the frame's size). Faceless decodes the first
//! frame only, so the screen and that frame are all that can cost memory:
//! both are checked against the pixel limit, the screen also against the
//! density limit, before any pixel is decoded. Later frames are never read.

use std::io::Cursor;

use super::limits::Limits;
use crate::error::{Error, Result};

/// Checks the first frame's rectangle of a GIF against `limits`.
pub(crate) fn check_first_frame(bytes: &[u8], limits: &Limits) -> Result<()> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options
        .read_info(Cursor::new(bytes))
        .map_err(|e| Error::Decode(e.to_string()))?;
    let frame = decoder
        .next_frame_info()
        .map_err(|e| Error::Decode(e.to_string()))?
        .ok_or_else(|| Error::Decode("GIF has no frame".into()))?;
    let (w, h) = (u64::from(frame.width), u64::from(frame.height));
    if w * h > limits.max_pixels {
        return Err(Error::ImageTooLarge {
            width: w,
            height: h,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}
