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
use mozjpeg::ColorSpace;
use mozjpeg_sys::{
    jpeg_common_struct, jpeg_error_mgr, jpeg_std_error, JWRN_HIT_MARKER, JWRN_JPEG_EOF,
};

use crate::error::{Error, Result};

thread_local! {
    /// Set by libjpeg's warning hook when the data ended before the image
    /// (`JWRN_JPEG_EOF`) or a marker interrupted the scan (`JWRN_HIT_MARKER`,
    /// e.g. a file cut mid-scan with an EOI appended).
    static TRUNCATED: Cell<bool> = const { Cell::new(false) };
}

unsafe extern "C-unwind" fn on_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    // level -1 is a warning; libjpeg pads the missing part with gray and
    // carries on, which must not pass for a good decode. (PIL accepts a scan
    // cut by a marker and returns the gray fill; we refuse it.)
    if level < 0 && !cinfo.err.is_null() {
        let code = (*cinfo.err).msg_code;
        if code == JWRN_JPEG_EOF as c_int || code == JWRN_HIT_MARKER as c_int {
            TRUNCATED.with(|t| t.set(true));
        }
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

/// Why the decode closure stopped early without a libjpeg error.
enum Early {
    Io(std::io::Error),
    Limit(Error),
}

impl From<std::io::Error> for Early {
    fn from(e: std::io::Error) -> Self {
        Early::Io(e)
    }
}

/// Decodes a JPEG to RGB. Errors on corrupt or truncated data, and on a
/// size over `limits` (checked on libjpeg's own reading of the header, before
/// it allocates anything for the pixels).
///
/// CMYK and YCCK JPEGs are decoded to CMYK by libjpeg and converted to RGB
/// exactly as PIL does (see [`cmyk_to_rgb`]).
pub(crate) fn decode(bytes: &[u8], limits: &super::Limits) -> Result<RgbImage> {
    TRUNCATED.with(|t| t.set(false));
    let result = std::panic::catch_unwind(|| -> std::result::Result<_, Early> {
        // SAFETY: jpeg_std_error initialises every field of the zeroed struct.
        let mut err: jpeg_error_mgr = unsafe { std::mem::zeroed() };
        unsafe { jpeg_std_error(&mut err) };
        err.error_exit = Some(on_error);
        err.emit_message = Some(on_message);
        let header = mozjpeg::Decompress::builder()
            .with_err(err)
            .from_mem(bytes)?;
        let (w, h) = (header.width(), header.height());
        limits
            .check_declared(w as u64, h as u64, bytes.len() as u64)
            .map_err(Early::Limit)?;
        let cmyk = matches!(
            header.color_space(),
            ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK
        );
        let mut started = if cmyk {
            header.to_colorspace(ColorSpace::JCS_CMYK)?
        } else {
            header.rgb()?
        };
        let mut pixels = started.read_scanlines::<u8>()?;
        started.finish()?;
        if cmyk {
            pixels = cmyk_to_rgb(&pixels);
        }
        Ok((w, h, pixels))
    });
    match result {
        Ok(Err(Early::Limit(e))) => Err(e),
        Ok(Err(Early::Io(e))) => Err(Error::decode(e)),
        Ok(Ok((w, h, pixels))) => {
            if TRUNCATED.with(|t| t.get()) {
                return Err(Error::Decode(
                    "JPEG data is truncated or corrupt: the scan ends before the image".into(),
                ));
            }
            RgbImage::from_raw(w as u32, h as u32, pixels)
                .ok_or_else(|| Error::Decode("JPEG decoder returned a short image".into()))
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "corrupt JPEG data".into());
            Err(Error::decode(msg))
        }
    }
}

/// PIL's CMYK to RGB, on libjpeg's CMYK output.
///
/// PIL reads every CMYK JPEG with Adobe's inverted polarity (`CMYK;I`: ink
/// `c = 255 - stored`) and converts with `r = (255 - k) - c·(255 - k)/255`
/// rounded as its `MULDIV255` does (likewise g from m, b from y). Written
/// with the stored values `C, K` that is `r = K - muldiv255(255 - C, K)`.
pub(crate) fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    fn muldiv255(a: u32, b: u32) -> u32 {
        let t = a * b + 128;
        ((t >> 8) + t) >> 8
    }
    let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
    for p in cmyk.chunks_exact(4) {
        let nk = u32::from(p[3]);
        for &c in &p[..3] {
            out.push(nk.saturating_sub(muldiv255(255 - u32::from(c), nk)) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cmyk_to_rgb;

    #[test]
    fn cmyk_matches_pil_on_corners() {
        // Stored (inverted) values: 255 = no ink.
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 255]), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 255]), [0, 0, 0]);
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 0]), [0, 0, 0]);
        assert_eq!(cmyk_to_rgb(&[0, 255, 255, 255]), [0, 255, 255]);
        // PIL: CMYK (ink) (100, 0, 0, 50) -> RGB (125, 205, 205);
        // stored = 255 - ink.
        assert_eq!(cmyk_to_rgb(&[155, 255, 255, 205]), [125, 205, 205]);
    }
}
