//! How the command line walks what it is given, like `find -L`: symlink
//! loops, FIFOs, devices, non-UTF-8 names, empty input sets. Every run has a
//! deadline, so a walk that hangs fails the test instead of blocking it.

#![cfg(unix)]

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Runs faceless with `args`; fails the test if it runs longer than 120 s.
fn faceless(args: &[&OsStr]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faceless"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run faceless");
    // Drain both pipes while waiting, so a chatty child never blocks.
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("faceless {args:?} still running after 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status.code().unwrap_or(-1),
        out.join().unwrap(),
        err.join().unwrap(),
    )
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("faceless-walk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn images(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["image"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn loops_fifos_and_links_each_file_once() {
    // scratch/root is walked; its link "up" leads to scratch, which holds
    // nothing but root.
    let d = scratch("loops").join("root");
    std::fs::create_dir(&d).unwrap();
    std::fs::copy(data("astronaut.jpg"), d.join("a.jpg")).unwrap();
    mkfifo(&d.join("x.jpg"));
    // Two links back to the folder itself, one to its parent, and a second
    // name for a.jpg's folder: a walk that follows links blindly never ends.
    std::os::unix::fs::symlink(".", d.join("self1")).unwrap();
    std::os::unix::fs::symlink(".", d.join("self2")).unwrap();
    std::os::unix::fs::symlink("..", d.join("up")).unwrap();
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink("../a.jpg", sub.join("same.jpg")).unwrap();
    let (code, out, err) = faceless(&[os("detect"), os("--json"), d.as_os_str()]);
    // The FIFO inside a folder is skipped, not an error of the run.
    assert_eq!(code, 0, "{err}");
    assert_eq!(images(&out), [d.join("a.jpg").to_str().unwrap()], "{err}");
    assert!(err.contains("x.jpg: skipped: a FIFO"), "{err}");
    assert!(err.contains("symlink loop"), "{err}");
    assert!(err.contains("same.jpg: skipped: same file"), "{err}");
    // self1, self2 and up/root lead back to root.
    assert_eq!(
        err.lines().last().unwrap(),
        "faceless: skipped 5: 1 FIFOs, sockets or devices, 1 files already listed, 3 symlink loops",
        "{err}"
    );
    let _ = std::fs::remove_dir_all(d.parent().unwrap());
}

#[test]
fn named_fifos_and_devices_are_skipped_unopened() {
    let d = scratch("fifo");
    let fifo = d.join("x.jpg");
    mkfifo(&fifo);
    let (code, out, err) = faceless(&[
        os("detect"),
        fifo.as_os_str(),
        os("/dev/zero"),
        os("tests/data/astronaut.png"),
    ]);
    assert_eq!(code, 1, "named inputs that cannot be read fail the run");
    assert!(
        out.starts_with("'tests/data/astronaut.png'\n{'face_0': {'box'"),
        "{out}"
    );
    assert!(err.contains("x.jpg: skipped: a FIFO"), "{err}");
    assert!(
        err.contains("/dev/zero: skipped: a character device"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_empty_input_set_is_reported() {
    let d = scratch("empty");
    let (code, out, err) = faceless(&[os("detect"), d.as_os_str()]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("no image to process"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn non_utf8_names_are_inputs_and_json_says_it_is_lossy() {
    let d = scratch("utf8");
    let mut name = d.clone().into_os_string();
    name.push("/caf");
    name.push(OsStr::from_bytes(b"\xe9.png"));
    let name = PathBuf::from(name);
    std::fs::copy(data("chelsea.png"), &name).unwrap();
    for input in [name.as_os_str(), d.as_os_str()] {
        let (code, out, err) = faceless(&[os("detect"), os("--json"), input]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert!(
            v["image"].as_str().unwrap().ends_with("caf\u{fffd}.png"),
            "{v}"
        );
        assert_eq!(v["image_lossy"], true);
        assert_eq!(v["width"], 451);
    }
    // UTF-8 names carry no such flag.
    let (_, out, _) = faceless(&[os("detect"), os("--json"), os("tests/data/chelsea.png")]);
    assert!(!out.contains("image_lossy"), "{out}");
    // Non-UTF-8 --draw target: written under that very name.
    let mut draw: OsString = d.join("out").into_os_string();
    draw.push(OsStr::from_bytes(b"\xff.png"));
    let (code, _, err) = faceless(&[os("analyze"), os("--draw"), &draw, name.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(Path::new(&draw).exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn limits_from_the_command_line() {
    let (code, _, err) = faceless(&[
        os("detect"),
        os("--max-bytes"),
        os("1000"),
        os("tests/data/astronaut.png"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("exceeds the limit of 1000 bytes"), "{err}");
    let (code, _, err) = faceless(&[
        os("detect"),
        os("--max-pixels"),
        os("1000"),
        os("tests/data/astronaut.png"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("exceeds the limit of 1000 pixels"), "{err}");
}
