//! Stable-Rust fallback when cargo-fuzz (nightly) is unavailable: mutates
//! the seed corpus at random (bit flips, byte sets, interesting values,
//! cuts, duplicated and spliced ranges) and runs a target for a set time.
//! No coverage guidance, but every input that panics is saved.
//!
//! Usage: mutate TARGET CORPUS_DIR SECONDS ARTIFACT_DIR

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        if v.is_empty() {
            v.push(rng.next() as u8);
        }
        let i = rng.below(v.len());
        match rng.below(7) {
            0 => v[i] ^= 1 << rng.below(8),
            1 => v[i] = rng.next() as u8,
            2 => v[i] = [0, 0xff, 0x7f, 0x80, 1][rng.below(5)],
            3 => v.truncate(i.max(1)),
            4 => {
                let j = (i + rng.below(64)).min(v.len());
                let chunk = v[i..j].to_vec();
                v.splice(i..i, chunk);
            }
            5 => {
                if i + 1 < v.len() {
                    let b = [0xff, 0xff][..2.min(v.len() - i)].to_vec();
                    v.splice(i..i + b.len(), b);
                }
            }
            _ => {
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + rng.below(256)).min(other.len());
                    v.splice(i..i, other[a..b].iter().copied());
                }
            }
        }
    }
    v
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let [_, target, corpus, seconds, artifacts] = &a[..] else {
        panic!("usage: mutate TARGET CORPUS_DIR SECONDS ARTIFACT_DIR");
    };
    let run: fn(&[u8]) = match target.as_str() {
        "decode" => faceless_fuzz::decode,
        "raw_pixels" => faceless_fuzz::raw_pixels,
        "c_abi" => faceless_fuzz::c_abi,
        t => panic!("unknown target {t}"),
    };
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!seeds.is_empty(), "empty corpus {corpus}");
    std::fs::create_dir_all(artifacts).unwrap();
    std::panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs(seconds.parse().unwrap());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ std::process::id() as u64);
    let (mut execs, mut findings) = (0u64, 0u64);
    let mut slowest = Duration::ZERO;
    while Instant::now() < deadline {
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed, other);
        let t = Instant::now();
        let ok = catch_unwind(AssertUnwindSafe(|| run(&input))).is_ok();
        slowest = slowest.max(t.elapsed());
        execs += 1;
        if !ok {
            findings += 1;
            let p = std::path::Path::new(artifacts).join(format!("crash-{execs}"));
            std::fs::write(&p, &input).unwrap();
            eprintln!("finding: {}", p.display());
        }
    }
    println!(
        "{target}: {execs} execs in {seconds} s (stable mutator, no coverage), {findings} findings, slowest input {:.1} ms",
        slowest.as_secs_f64() * 1e3
    );
}
