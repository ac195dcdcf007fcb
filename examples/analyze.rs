//! The whole pipeline from Rust: detect, align and classify every face.
//!
//! ```sh
//! cargo run --release --example analyze -- tests/data/astronaut.png
//! ```

fn main() -> Result<(), faceless::Error> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/data/astronaut.png".into());
    // Embedded models; ONNX Runtime from ORT_DYLIB_PATH or beside the binary.
    let pipeline = faceless::Pipeline::builder().min_face_size(20.0).build()?;
    let (img, faces) = pipeline.analyze_path(&path)?;
    println!(
        "{path}: {}x{}, {} face(s)",
        img.width(),
        img.height(),
        faces.len()
    );
    for fa in faces {
        let a = &fa.attributes;
        let [x1, y1, x2, y2] = fa.face.bbox;
        println!(
            "face {}: box ({x1:.0}, {y1:.0})-({x2:.0}, {y2:.0}) score {:.3}",
            fa.id, fa.face.score
        );
        println!(
            "  age {:.0} years, group {} (p={:.2}); gender {} (p={:.2}); ethnicity {} (p={:.2})",
            a.age_years,
            a.age_group.label,
            a.age_group.prob,
            a.gender.label,
            a.gender.prob,
            a.ethnicity.label,
            a.ethnicity.prob
        );
        // Every answer carries its probability: abstain when unsure.
        if a.gender.prob < 0.8 {
            println!("  (gender uncertain; a careful caller would not report it)");
        }
    }
    Ok(())
}
