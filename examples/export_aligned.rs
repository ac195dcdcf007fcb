//! Re-aligns a folder of face chips exactly as the SDK aligns detected faces,
//! so the classifier can be trained on what it will see at run time.
//!
//! ```sh
//! cargo run --release --example export_aligned -- ../shared/datasets/utkface/images training/out/aligned
//! ```
//!
//! For every image: detect, take the most confident face, warp it to the
//! manifest's template (or to the `alignment` of TEMPLATE_JSON when given, so a
//! new classifier's chips can be made before its manifest exists), and write the chip as PNG under the same file name
//! (PIL reads PNG content whatever the extension). Where no face is found
//! the original is copied unchanged, and counted.

use std::sync::atomic::{AtomicUsize, Ordering};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(src), Some(dst)) = (args.next(), args.next()) else {
        return Err("usage: export_aligned SOURCE_DIR DEST_DIR [TEMPLATE_JSON]".into());
    };
    let template = args.next().map(read_template).transpose()?;
    let (src, dst) = (std::path::PathBuf::from(src), std::path::PathBuf::from(dst));
    std::fs::create_dir_all(&dst)?;
    let mut names: Vec<_> = std::fs::read_dir(&src)?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    let pipeline = faceless::Pipeline::builder()
        .runtime(faceless::runtime::RuntimeOptions {
            intra_threads: 1,
            ..Default::default()
        })
        .build()?;
    let next = AtomicUsize::new(0);
    let (aligned, copied, failed) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(name) = names.get(i) else { break };
                let (from, to) = (src.join(name), dst.join(name));
                if to.exists() {
                    aligned.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let result =
                    faceless::input::decode_path(&from, pipeline.max_pixels()).and_then(|img| {
                        let faces = pipeline.detect(&img)?;
                        Ok(faces.first().map(|f| match &template {
                            Some((points, size)) => {
                                faceless::align::align(&img, &f.landmarks, points, *size)
                            }
                            None => pipeline.align(&img, f),
                        }))
                    });
                match result {
                    Ok(Some(chip)) => {
                        let tmp = dst.join(format!(".{}.tmp.png", name.to_string_lossy()));
                        if chip
                            .save(&tmp)
                            .and_then(|_| std::fs::rename(&tmp, &to).map_err(Into::into))
                            .is_ok()
                        {
                            aligned.fetch_add(1, Ordering::Relaxed);
                        } else {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(None) => {
                        let _ = std::fs::copy(&from, &to);
                        copied.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        eprintln!("{}: {e}", from.display());
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if i.is_multiple_of(2000) {
                    eprintln!("[export_aligned] {i}/{}", names.len());
                }
            });
        }
    });
    println!(
        "{{\"images\": {}, \"aligned\": {}, \"no_face_copied\": {}, \"failed\": {}}}",
        names.len(),
        aligned.load(Ordering::Relaxed),
        copied.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

/// Landmark positions in the chip, and the chip's `(width, height)`.
type Template = ([[f32; 2]; 5], (u32, u32));

/// Reads `{"alignment": {"chip_size": [w, h], "landmarks": [[x, y]; 5]}}`.
fn read_template(path: String) -> Result<Template, Box<dyn std::error::Error>> {
    #[derive(serde::Deserialize)]
    struct File {
        alignment: Alignment,
    }
    #[derive(serde::Deserialize)]
    struct Alignment {
        chip_size: [u32; 2],
        landmarks: [[f32; 2]; 5],
    }
    let file: File = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let a = file.alignment;
    Ok((a.landmarks, (a.chip_size[0], a.chip_size[1])))
}
