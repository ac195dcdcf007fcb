//! Turning what callers hand us (files, encoded bytes, raw pixel buffers)
//! into the 8-bit RGB image every model stage works on, within the limits
//! the caller allows (`limits.rs`).

mod decode;
mod depth;
mod frame;
mod gif_frame;
mod image_input;
mod jpeg;
mod limits;
mod raw;
mod read;

pub use decode::{decode_bytes, decode_bytes_with, decode_path, decode_path_with};
pub use frame::{frame, Frame, Pixels};
pub use image_input::ImageInput;
pub(crate) use limits::check_size;
pub use limits::{Limits, DEFAULT_MAX_PIXELS, DEFAULT_MAX_PIXELS_PER_BYTE, DENSITY_FLOOR_PIXELS};
pub(crate) use raw::RawPixels;
pub use raw::{from_raw, PixelFormat};
pub use read::file_kind;
