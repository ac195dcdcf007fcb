//! Writes the seed corpus: small synthetic images in every format and
//! colour type Faceless reads, broken and hostile variants of them, and raw
//! pixel headers. Nothing is copied from a photograph.
//!
//! Usage: make_corpus OUT_DIR  (writes OUT_DIR/{decode,raw_pixels,c_abi}/)

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, LumaA, Rgb, Rgba};

fn synthetic(w: u32, h: u32) -> image::RgbImage {
    // Gradients and a disc: edges, flat areas and colour.
    ImageBuffer::from_fn(w, h, |x, y| {
        let (cx, cy) = (x as i32 - w as i32 / 2, y as i32 - h as i32 / 2);
        let inside = cx * cx + cy * cy < (w.min(h) as i32 / 3).pow(2);
        Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            if inside { 220 } else { 30 },
        ])
    })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn cmyk_jpeg(space: mozjpeg::ColorSpace, progressive: bool) -> Vec<u8> {
    let (w, h) = (24usize, 16usize);
    let px: Vec<u8> = (0..w * h * 4).map(|i| (i * 7 % 256) as u8).collect();
    let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_CMYK);
    c.set_size(w, h);
    c.set_color_space(space);
    if progressive {
        c.set_progressive_mode();
    }
    let mut s = c.start_compress(Vec::new()).unwrap();
    s.write_scanlines(&px).unwrap();
    s.finish().unwrap()
}

fn gif_bomb(screen: (u16, u16), frame: (u16, u16)) -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&screen.0.to_le_bytes());
    g.extend_from_slice(&screen.1.to_le_bytes());
    g.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255, 0x2c, 0, 0, 0, 0]);
    g.extend_from_slice(&frame.0.to_le_bytes());
    g.extend_from_slice(&frame.1.to_le_bytes());
    g.extend_from_slice(&[0, 2, 2, 0x44, 0x01, 0, 0x3b]);
    g
}

fn main() {
    let out = std::env::args().nth(1).expect("usage: make_corpus OUT_DIR");
    let out = Path::new(&out);
    let rgb = DynamicImage::ImageRgb8(synthetic(32, 24));
    let mut images: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, format) in [
        ("png", ImageFormat::Png),
        ("jpg", ImageFormat::Jpeg),
        ("bmp", ImageFormat::Bmp),
        ("gif", ImageFormat::Gif),
        ("webp", ImageFormat::WebP),
    ] {
        images.push((format!("rgb.{name}"), encode(&rgb, format)));
    }
    let gray = DynamicImage::ImageLuma8(rgb.to_luma8());
    images.push(("gray.png".into(), encode(&gray, ImageFormat::Png)));
    images.push(("gray.jpg".into(), encode(&gray, ImageFormat::Jpeg)));
    images.push((
        "rgba.png".into(),
        encode(&DynamicImage::ImageRgba8(rgb.to_rgba8()), ImageFormat::Png),
    ));
    let l16: ImageBuffer<Luma<u16>, _> =
        ImageBuffer::from_fn(16, 8, |x, y| Luma([(x * 4000 + y * 77) as u16]));
    images.push((
        "gray16.png".into(),
        encode(&DynamicImage::ImageLuma16(l16), ImageFormat::Png),
    ));
    let la16: ImageBuffer<LumaA<u16>, _> =
        ImageBuffer::from_fn(8, 8, |x, y| LumaA([(x * 8000) as u16, (y * 9000) as u16]));
    images.push((
        "graya16.png".into(),
        encode(&DynamicImage::ImageLumaA16(la16), ImageFormat::Png),
    ));
    images.push((
        "rgb16.png".into(),
        encode(&DynamicImage::ImageRgb16(rgb.to_rgb16()), ImageFormat::Png),
    ));
    let rgba16: ImageBuffer<Rgba<u16>, _> = ImageBuffer::from_fn(8, 8, |x, y| {
        Rgba([(x * 8000) as u16, (y * 8000) as u16, 0x1234, 0xffff])
    });
    images.push((
        "rgba16.png".into(),
        encode(&DynamicImage::ImageRgba16(rgba16), ImageFormat::Png),
    ));
    images.push((
        "cmyk.jpg".into(),
        cmyk_jpeg(mozjpeg::ColorSpace::JCS_CMYK, false),
    ));
    images.push((
        "ycck.jpg".into(),
        cmyk_jpeg(mozjpeg::ColorSpace::JCS_YCCK, false),
    ));
    images.push((
        "ycck_progressive.jpg".into(),
        cmyk_jpeg(mozjpeg::ColorSpace::JCS_YCCK, true),
    ));
    // Hostile: bombs, cut files, a cut scan with its EOI put back.
    images.push(("bomb_screen.gif".into(), gif_bomb((10_000, 10_000), (1, 1))));
    images.push(("bomb_frame.gif".into(), gif_bomb((10, 10), (8000, 8000))));
    let jpg = encode(&rgb, ImageFormat::Jpeg);
    let mut sof = jpg.clone();
    let at = sof.windows(2).position(|m| m == [0xff, 0xc0]).unwrap();
    sof[at + 5..at + 9].copy_from_slice(&[0x27, 0x10, 0x27, 0x10]);
    images.push(("bomb_sof.jpg".into(), sof));
    let mut cut = jpg[..jpg.len() / 2].to_vec();
    cut.extend_from_slice(&[0xff, 0xd9]);
    images.push(("cut_scan.jpg".into(), cut));
    let png = encode(&rgb, ImageFormat::Png);
    images.push(("cut.png".into(), png[..png.len() / 2].to_vec()));

    for dir in ["decode", "c_abi"] {
        let d = out.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        for (name, bytes) in &images {
            std::fs::write(d.join(name), bytes).unwrap();
        }
    }
    // raw_pixels (and c_abi): width, height, stride as u16 LE, format, pixels.
    for (name, w, h, stride, format) in [
        ("rgb", 8u16, 6u16, 24u16, 0u8),
        ("bgr_padded", 8, 6, 28, 1),
        ("rgba", 4, 4, 16, 2),
        ("bgra", 4, 4, 20, 3),
        ("gray", 16, 4, 16, 4),
        ("short_stride", 8, 6, 5, 0),
        ("bad_format", 2, 2, 6, 7),
    ] {
        let mut v = Vec::new();
        for x in [w, h, stride] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.push(format);
        v.extend((0..usize::from(stride) * usize::from(h)).map(|i| (i * 31 % 256) as u8));
        for dir in ["raw_pixels", "c_abi"] {
            let d = out.join(dir);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(format!("raw_{name}")), &v).unwrap();
        }
    }
    println!("seed corpus written to {}", out.display());
}
