//! Writes the aligned chip of every face in an image, exactly as the
//! classifier sees it (before resizing to its input size).
//!
//! ```sh
//! cargo run --release --example aligned_chips -- tests/data/astronaut.png /tmp/chips
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let image = args
        .next()
        .unwrap_or_else(|| "tests/data/astronaut.png".into());
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "chips".into()));
    std::fs::create_dir_all(&out)?;
    let pipeline = faceless::Pipeline::new()?;
    let (img, faces) = pipeline.analyze_path(&image)?;
    for fa in &faces {
        let chip = pipeline.align(&img, &fa.face);
        let path = out.join(format!("face_{}.png", fa.id));
        chip.save(&path)?;
        println!("{}: score {:.3}", path.display(), fa.face.score);
    }
    Ok(())
}
