//! The committed models are the ones their provenance files describe.

mod common;

use common::repo;
use sha2::{Digest, Sha256};

fn sha256(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_sums(dir: &str) -> usize {
    let dir = repo().join(dir);
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut n = 0;
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let (hash, name) = line.split_once(char::is_whitespace).unwrap();
        let name = name.trim().trim_start_matches('*');
        assert_eq!(
            sha256(&dir.join(name)),
            hash,
            "{}/{name} differs from SHA256SUMS",
            dir.display()
        );
        n += 1;
    }
    n
}

#[test]
fn mtcnn_models_match_their_checksums() {
    // tools/check_mtcnn_models.sh regenerates them from the pinned wheel and
    // compares bytes; this checks the files are the ones it recorded.
    assert_eq!(check_sums("models/mtcnn"), 3);
}

fn check_classifier(dir: &str) {
    assert!(check_sums(dir) >= 1);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join(dir).join("faceless-attributes.json")).unwrap(),
    )
    .unwrap();
    let onnx = repo().join(dir).join(manifest["onnx"].as_str().unwrap());
    assert_eq!(manifest["sha256"].as_str().unwrap(), sha256(&onnx));
}

#[test]
fn classifier_matches_its_checksums_and_manifest() {
    check_classifier("models/classifier");
}

#[test]
fn fast_classifier_matches_its_checksums_and_manifest() {
    check_classifier("models/classifier-fast");
}
