//! Where ONNX Runtime is found, in the order the README documents, seen
//! through `faceless version --json` run from a copy of the CLI in an empty
//! folder (so nothing is found beside it unless a test puts it there).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn runtime() -> PathBuf {
    repo().join(".runtime/libonnxruntime.so.1.31.1")
}

/// A folder holding a copy of the CLI and nothing else.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("faceless-ort-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_faceless"), dir.join("bin/faceless")).unwrap();
        Sandbox(dir)
    }

    /// Runs the sandbox's CLI. The copy was just written, and a child that
    /// another test thread forked meanwhile may still hold it open for writing
    /// until that child execs; running it then fails with "text file busy"
    /// (ETXTBSY), so that one error is retried.
    fn run(&self, cmd: &mut Command) -> std::process::Output {
        for _ in 0..100 {
            match cmd.output() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                result => return result.unwrap(),
            }
        }
        panic!("{} stayed busy", self.0.join("bin/faceless").display())
    }

    /// Runs `faceless version --json` with exactly the given environment
    /// variables about libraries; returns (exit code, stdout JSON, stderr).
    fn version(&self, env: &[(&str, &Path)]) -> (i32, serde_json::Value, String) {
        let mut cmd = Command::new(self.0.join("bin/faceless"));
        cmd.args(["version", "--json"])
            .env_remove("ORT_DYLIB_PATH")
            .env_remove("LD_LIBRARY_PATH");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = self.run(&mut cmd);
        let stdout = String::from_utf8(out.stdout).unwrap();
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn found_by(v: &serde_json::Value) -> &str {
    v["onnxruntime"]["found_by"].as_str().unwrap_or("")
}

#[test]
fn nothing_found_names_every_place_and_a_fix_for_sdk_users() {
    let sb = Sandbox::new("none");
    let (code, _, err) = sb.version(&[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("beside the executable"), "{err}");
    assert!(err.contains("system loader"), "{err}");
    assert!(
        err.contains("LD_LIBRARY_PATH") && err.contains("PyPI"),
        "{err}"
    );
    assert!(
        !err.contains("tools/"),
        "no repository script in the fix: {err}"
    );
}

#[test]
fn ort_dylib_path_may_name_a_folder() {
    let sb = Sandbox::new("folder");
    let folder = runtime().parent().unwrap().to_path_buf();
    let (code, v, err) = sb.version(&[("ORT_DYLIB_PATH", &folder)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(found_by(&v), "ORT_DYLIB_PATH");
    assert_eq!(v["onnxruntime"]["version"], "1.31.1");
}

#[test]
fn the_system_loader_search_finds_it_on_ld_library_path() {
    let sb = Sandbox::new("loader");
    let folder = runtime().parent().unwrap().to_path_buf();
    let (code, v, err) = sb.version(&[("LD_LIBRARY_PATH", &folder)]);
    assert_eq!(code, 0, "{err}");
    assert!(found_by(&v).starts_with("system loader"), "{v}");
    assert_eq!(
        Path::new(v["onnxruntime"]["path"].as_str().unwrap()),
        runtime().canonicalize().unwrap()
    );
}

#[test]
fn a_stale_setting_is_reported_and_does_not_hide_a_good_library() {
    let sb = Sandbox::new("stale");
    std::os::unix::fs::symlink(runtime(), sb.0.join("bin/libonnxruntime.so.1.31.1")).unwrap();
    // A path that no longer exists, then a file that is not ONNX Runtime.
    let gone = sb.0.join("old/libonnxruntime.so.1.20.0");
    let not_ort = sb.0.join("libonnxruntime.so");
    std::fs::write(&not_ort, b"not a library").unwrap();
    for stale in [&gone, &not_ort] {
        let (code, v, err) = sb.version(&[("ORT_DYLIB_PATH", stale)]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(found_by(&v), "beside the faceless library", "{v}");
        let passed = v["onnxruntime"]["passed_over"][0].as_str().unwrap();
        assert!(passed.contains(&*stale.to_string_lossy()), "{passed}");
        assert!(
            err.contains("warning: passed over") && err.contains("ORT_DYLIB_PATH"),
            "{err}"
        );
    }
}

#[test]
fn an_explicit_path_is_used_or_refused_never_passed_over() {
    let sb = Sandbox::new("explicit");
    std::os::unix::fs::symlink(runtime(), sb.0.join("bin/libonnxruntime.so.1.31.1")).unwrap();
    let out = sb.run(
        Command::new(sb.0.join("bin/faceless"))
            .args(["version", "--ort", "/nonexistent/dir"])
            .env_remove("ORT_DYLIB_PATH"),
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("explicitly given path /nonexistent/dir"),
        "{err}"
    );
}
