//! Bringing any decoded image to 8-bit RGB the way PIL does.
//!
//! 8-bit images: gray is replicated, alpha dropped (not blended), as PIL's
//! `convert("RGB")`. 16-bit images keep the high byte of every sample (PIL's
//! `RGB;16B`, `RGBA;16B` and `LA;16B` raw modes), not the rounded `v / 257`
//! image-rs would give: values differ by one level on about half the samples,
//! and the classifier was trained on PIL's pixels. 16-bit gray is the one
//! case where PIL differs: it opens it as `I;16` and `convert("RGB")` clips
//! every value above 255 to white, which loses the picture; we take the high
//! byte there too.

use image::{DynamicImage, RgbImage};

/// Converts to 8-bit RGB; 16-bit samples keep their high byte.
pub(crate) fn to_rgb8(img: DynamicImage) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    let high = |v: u16| (v >> 8) as u8;
    let raw: Vec<u8> = match img {
        DynamicImage::ImageRgb8(rgb) => return rgb,
        DynamicImage::ImageRgb16(i) => i.as_raw().iter().map(|&v| high(v)).collect(),
        DynamicImage::ImageRgba16(i) => i
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [high(p[0]), high(p[1]), high(p[2])])
            .collect(),
        DynamicImage::ImageLuma16(i) => i.as_raw().iter().flat_map(|&v| [high(v); 3]).collect(),
        DynamicImage::ImageLumaA16(i) => i
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| [high(p[0]); 3])
            .collect(),
        other => return other.to_rgb8(),
    };
    RgbImage::from_raw(w, h, raw).expect("3 samples per pixel")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, Rgb};

    #[test]
    fn sixteen_bits_keep_the_high_byte() {
        // 0x12FF rounds to 0x13 but its high byte is 0x12.
        let img: ImageBuffer<Rgb<u16>, _> =
            ImageBuffer::from_raw(1, 1, vec![0x12FF, 0x0080, 0xFFFF]).unwrap();
        let out = to_rgb8(DynamicImage::ImageRgb16(img));
        assert_eq!(out.as_raw(), &[0x12, 0x00, 0xFF]);
        let img: ImageBuffer<Luma<u16>, _> = ImageBuffer::from_raw(1, 1, vec![0x80FF]).unwrap();
        let out = to_rgb8(DynamicImage::ImageLuma16(img));
        assert_eq!(out.as_raw(), &[0x80, 0x80, 0x80]);
    }
}
