//! JPEG decoding through libjpeg-turbo's code (the mozjpeg fork).
//!
//! image-rs decodes JPEG with its own IDCT and chroma upsampling, which
//! differ from libjpeg-turbo by a level or two on ~15 % of pixels. That is
//! enough to move small-face detections away from the facenet-pytorch
//! reference, and away from what the classifier saw in training (PIL, i.e.
//! libjpeg-turbo). Decoding here is bit-identical to PIL's.

use std::cell::Cell;
use std::os::raw::c_int;

use image::RgbImage;
use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr, jpeg_std_error, JWRN_JPEG_EOF};

use crate::error::{Error, Result};

thread_local! {
    /// Set by libjpeg's warning hook when the data ended before the image.
    static TRUNCATED: Cell<bool> = const { Cell::new(false) };
}

unsafe extern "C-unwind" fn on_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    // level -1 is a warning; libjpeg pads a truncated image with gray and
    // carries on, which must not pass for a good decode.
    if level < 0 && !cinfo.err.is_null() && (*cinfo.err).msg_code == JWRN_JPEG_EOF as c_int {
        TRUNCATED.with(|t| t.set(true));
    }
}

unsafe extern "C-unwind" fn on_error(cinfo: &mut jpeg_common_struct) {
    let mut msg = String::from("corrupt JPEG data");
    if let Some(format) = (*cinfo.err).format_message {
        // libjpeg writes at most JMSG_LENGTH_MAX (200) bytes; give it room.
        let mut big = [0u8; 256];
        let f: unsafe extern "C-unwind" fn(&mut jpeg_common_struct, &mut [u8; 256]) =
            std::mem::transmute(format);
        f(cinfo, &mut big);
        let end = big.iter().position(|&b| b == 0).unwrap_or(big.len());
        msg = String::from_utf8_lossy(&big[..end]).into_owned();
    }
    // Unwinds to the catch_unwind in `decode`; never crosses into C callers.
    std::panic::resume_unwind(Box::new(msg));
}

/// Decodes a JPEG to RGB. Errors on corrupt or truncated data.
pub(crate) fn decode(bytes: &[u8]) -> Result<RgbImage> {
    TRUNCATED.with(|t| t.set(false));
    let result = std::panic::catch_unwind(|| -> std::io::Result<(usize, usize, Vec<u8>)> {
        // SAFETY: jpeg_std_error initialises every field of the zeroed struct.
        let mut err: jpeg_error_mgr = unsafe { std::mem::zeroed() };
        unsafe { jpeg_std_error(&mut err) };
        err.error_exit = Some(on_error);
        err.emit_message = Some(on_message);
        let mut started = mozjpeg::Decompress::builder()
            .with_err(err)
            .from_mem(bytes)?
            .rgb()?;
        let (w, h) = (started.width(), started.height());
        let pixels = started.read_scanlines::<u8>()?;
        started.finish()?;
        Ok((w, h, pixels))
    });
    match result {
        Ok(Ok((w, h, pixels))) => {
            if TRUNCATED.with(|t| t.get()) {
                return Err(Error::Decode("JPEG data is truncated".into()));
            }
            RgbImage::from_raw(w as u32, h as u32, pixels)
                .ok_or_else(|| Error::Decode("JPEG decoder returned a short image".into()))
        }
        Ok(Err(e)) => Err(Error::Decode(e.to_string())),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "corrupt JPEG data".into());
            Err(Error::Decode(msg))
        }
    }
}
