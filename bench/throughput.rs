//! Throughput, network time and memory of one configuration, for
//! `bench/run.sh` (not a test: `cargo bench --bench throughput -- ARGS`).
//!
//!   --mode detect|analyze|analyze-fast
//!                           Detector alone, or the whole pipeline with the
//!                           accurate (default) or the fast classifier
//!   --threads N             the CPU budget (`max_sessions`)
//!   --reps N                the images N times over in one timed batch
//!   --flat N                instead: analyse N images (cycling through the
//!                           given ones at several sizes) and report RSS
//!   IMAGE...
//!
//! One process per configuration, so that its peak RSS is its own. Images
//! are decoded before timing (as the facenet-pytorch peer does) and go
//! through the batch API, `threads` images at a time: throughput over a
//! stream. Prints one JSON object.

use std::time::Instant;

use faceless::image::{imageops, RgbImage};
use faceless::{BatchMode, ImageInput};

fn rusage() -> libc::rusage {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage
}

fn peak_rss_mib() -> f64 {
    rusage().ru_maxrss as f64 / 1024.0
}

fn cpu_seconds() -> f64 {
    let u = rusage();
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn pixels(img: &RgbImage) -> ImageInput<'_> {
    ImageInput::from(img)
}

struct Args {
    mode: String,
    threads: usize,
    reps: usize,
    flat: usize,
    images: Vec<String>,
}

fn args() -> Args {
    let mut a = Args {
        mode: "analyze".into(),
        threads: 1,
        reps: 5,
        flat: 0,
        images: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |d| it.next().and_then(|v| v.parse().ok()).unwrap_or(d);
        match arg.as_str() {
            "--mode" => a.mode = it.next().unwrap_or_default(),
            "--threads" => a.threads = num(1),
            "--reps" => a.reps = num(5),
            "--flat" => a.flat = num(0),
            "--bench" => {}
            _ => a.images.push(arg),
        }
    }
    a
}

fn main() -> Result<(), faceless::Error> {
    let a = args();
    let images: Vec<RgbImage> = a
        .images
        .iter()
        .map(|p| faceless::input::decode_path(p, faceless::input::DEFAULT_MAX_PIXELS))
        .collect::<Result<_, _>>()?;
    if a.flat > 0 {
        return flat(&a, &images);
    }
    let once: Vec<ImageInput<'_>> = images.iter().map(pixels).collect();
    // The timed stream: the images `reps` times over, in one batch, so that
    // no pass waits for its slowest image before the next starts.
    let stream: Vec<ImageInput<'_>> = (0..a.reps).flat_map(|_| once.iter().cloned()).collect();
    let limits = faceless::input::Limits::default();
    let detector = (a.mode == "detect")
        .then(|| {
            faceless::Detector::builder()
                .max_sessions(a.threads)
                .build()
        })
        .transpose()?;
    let classifier = if a.mode == "analyze-fast" {
        faceless::ClassifierChoice::Fast
    } else {
        faceless::ClassifierChoice::Accurate
    };
    let pipeline = (a.mode != "detect")
        .then(|| {
            faceless::Pipeline::builder()
                .max_sessions(a.threads)
                .classifier(classifier)
                .build()
        })
        .transpose()?;
    // One batch, `threads` images at a time; returns faces found.
    let pass = |inputs: &[ImageInput<'_>]| -> Result<usize, faceless::Error> {
        let mut faces = 0;
        let mut failed = None;
        match (&detector, &pipeline) {
            (Some(d), _) => d.detect_batch_each(inputs, &limits, |_, r| match r {
                Ok((_, f)) => faces += f.len(),
                Err(e) => failed = Some(e),
            }),
            (_, Some(p)) => p.analyze_batch_each(inputs, BatchMode::Analyze, |_, r| match r {
                Ok(a) => faces += a.faces.len(),
                Err(e) => failed = Some(e),
            }),
            _ => unreachable!(),
        }
        failed.map_or(Ok(faces), Err)
    };
    // Warm-up: sessions created, first-run costs paid. The images once per
    // thread, twice over, so that calls overlap (a single image alone would
    // leave the other threads' sessions to be made on the clock) and every
    // thread's sessions exist before the clock starts.
    let faces = pass(&once)?;
    let warm: Vec<ImageInput<'_>> = (0..a.threads.max(1))
        .flat_map(|_| once.iter().cloned())
        .collect();
    pass(&warm)?;
    pass(&warm)?;
    // Detection's helpers can keep the images' classifications from ever
    // overlapping in the warm-up: classify chips alone, several per thread,
    // so that every thread's classifier session exists too.
    if let Some(p) = &pipeline {
        let chip = imageops::thumbnail(&images[0], 186, 186);
        let chips: Vec<ImageInput<'_>> = (0..4 * a.threads.max(1)).map(|_| pixels(&chip)).collect();
        for r in p.analyze_batch(&chips, BatchMode::ClassifyAligned) {
            r?;
        }
    }
    let network0 = faceless::runtime::network_time();
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    pass(&stream)?;
    let elapsed_ms = t.elapsed().as_secs_f64() * 1e3;
    let cpu_ms = (cpu_seconds() - cpu0) * 1e3 / a.reps as f64;
    let network_cpu_ms =
        (faceless::runtime::network_time() - network0).as_secs_f64() * 1e3 / a.reps as f64;
    let n = images.len() as f64;
    let pass_ms = elapsed_ms / a.reps as f64;
    println!(
        "{{\"mode\": {:?}, \"threads\": {}, \"images\": {}, \"faces\": {faces}, \"pass_ms\": {pass_ms:.2}, \
         \"ms_per_image\": {:.2}, \"cpu_ms_per_image\": {:.2}, \"network_cpu_ms_per_image\": {:.2}, \
         \"peak_rss_mib\": {:.1}}}",
        a.mode,
        a.threads,
        images.len(),
        pass_ms / n,
        cpu_ms / n,
        network_cpu_ms / n,
        peak_rss_mib()
    );
    Ok(())
}

/// `--flat N`: one pipeline analyses N images cycling through the given
/// ones at 100 %, 71 % and 50 % of their size (the arena-era failure was
/// memory kept after a size change); the highest RSS of each cycle.
fn flat(a: &Args, images: &[RgbImage]) -> Result<(), faceless::Error> {
    let mut set = Vec::new();
    for img in images {
        for f in [1.0, 0.71, 0.5] {
            let (w, h) = (
                (img.width() as f64 * f) as u32,
                (img.height() as f64 * f) as u32,
            );
            set.push(imageops::resize(img, w, h, imageops::FilterType::Triangle));
        }
    }
    let pipeline = faceless::Pipeline::builder()
        .max_sessions(a.threads)
        .build()?;
    let inputs: Vec<ImageInput<'_>> = (0..a.flat).map(|i| pixels(&set[i % set.len()])).collect();
    // The highest RSS seen in each cycle through the set.
    let mut cycles: Vec<f64> = Vec::new();
    let mut failed = 0;
    let t = Instant::now();
    pipeline.analyze_batch_each(&inputs, BatchMode::Analyze, |i, r| {
        failed += usize::from(r.is_err());
        let c = i / set.len();
        if cycles.len() <= c {
            cycles.push(0.0);
        }
        cycles[c] = cycles[c].max(rss_mib());
    });
    // Growth: the typical cycle's highest RSS (the median) in the run's
    // second half over that in its first half, the first cycle (sessions
    // being created) left out. RSS swings by a few MB with what the C
    // allocator keeps between images, and one cycle may peak higher and
    // come back; growth is memory that stays. The highest cycle of each
    // half is reported beside it.
    let rest = &cycles[1.min(cycles.len())..];
    let (early, late) = rest.split_at(rest.len() / 2);
    let max = |v: &[f64]| v.iter().copied().fold(0.0f64, f64::max);
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let (base, end) = (median(early), median(late));
    println!(
        "{{\"mode\": \"flat\", \"threads\": {}, \"images\": {}, \"set_size\": {}, \"failed\": {failed}, \
         \"seconds\": {:.1}, \"rss_first_half_mib\": {base:.1}, \"rss_second_half_mib\": {end:.1}, \
         \"highest_first_half_mib\": {:.1}, \"highest_second_half_mib\": {:.1}, \
         \"growth_mib\": {:.1}, \"peak_rss_mib\": {:.1}, \"cycles_mib\": {:?}}}",
        a.threads,
        a.flat,
        set.len(),
        t.elapsed().as_secs_f64(),
        max(early),
        max(late),
        end - base,
        peak_rss_mib(),
        cycles.iter().map(|c| c.round() as i64).collect::<Vec<_>>()
    );
    Ok(())
}
