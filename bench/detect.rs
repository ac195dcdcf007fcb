//! Detection and full-pipeline timing for `bench/run.sh` (not a test: run on
//! demand with `cargo bench --bench detect -- [--threads N] [--reps N] IMAGE...`).
//!
//! Prints one JSON object per image: median milliseconds per call for
//! detection alone and for the whole pipeline, faces found, and the process's
//! peak resident memory at the end.

use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn peak_rss_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn main() -> Result<(), faceless::Error> {
    let mut threads = 1usize;
    let mut reps = 10usize;
    let mut images = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--reps" => reps = args.next().and_then(|v| v.parse().ok()).unwrap_or(10),
            "--bench" => {}
            _ => images.push(a),
        }
    }
    let runtime = faceless::runtime::RuntimeOptions {
        intra_threads: threads,
        ..Default::default()
    };
    let detector = faceless::Detector::builder()
        .runtime(runtime.clone())
        .max_sessions(1)
        .build()?;
    let pipeline = faceless::Pipeline::builder()
        .runtime(runtime)
        .max_sessions(1)
        .build()?;
    for path in images {
        let img = faceless::input::decode_path(&path, faceless::input::DEFAULT_MAX_PIXELS)?;
        let faces = detector.detect(&img)?.len();
        pipeline.analyze(&img)?; // warm-up
        let mut detect_ms = Vec::new();
        let mut analyze_ms = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            detector.detect(&img)?;
            detect_ms.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            pipeline.analyze(&img)?;
            analyze_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            "{{\"image\": {:?}, \"faces\": {faces}, \"detect_ms\": {:.2}, \"analyze_ms\": {:.2}, \"peak_rss_mib\": {:.1}}}",
            path,
            median(detect_ms),
            median(analyze_ms),
            peak_rss_mib()
        );
    }
    Ok(())
}
