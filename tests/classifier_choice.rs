//! Both classifiers, `accurate` (the default) and `fast`: each loads,
//! answers with calibrated probabilities, and is the one its option names,
//! embedded or from a models directory.

mod common;

use std::path::{Path, PathBuf};

use common::{data, repo};
use faceless::{ClassifierChoice, ErrorKind, ModelSource, Pipeline, Prediction};

fn manifest(folder: &str) -> serde_json::Value {
    let path = repo()
        .join("models")
        .join(folder)
        .join("faceless-attributes.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn pipeline(choice: ClassifierChoice) -> Pipeline {
    Pipeline::builder()
        .classifier(choice)
        .max_sessions(1)
        .build()
        .unwrap()
}

fn check_calibrated(p: &Prediction, classes: usize) {
    assert_eq!(p.probs.len(), classes);
    assert_eq!(p.labels.len(), classes);
    assert!(p.probs.iter().all(|q| (0.0..=1.0).contains(q)), "{p:?}");
    assert!((p.probs.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{p:?}");
    assert_eq!(p.prob, p.probs[p.index]);
    assert_eq!(p.label, p.labels[p.index]);
}

#[test]
fn accurate_is_the_default() {
    assert_eq!(ClassifierChoice::default(), ClassifierChoice::Accurate);
    let p = Pipeline::builder().max_sessions(1).build().unwrap();
    assert_eq!(p.classifier_choice(), ClassifierChoice::Accurate);
    assert_eq!(ClassifierChoice::Fast.name(), "fast");
    assert_eq!(ClassifierChoice::Accurate.to_string(), "accurate");
}

#[test]
fn both_classifiers_give_calibrated_answers_on_the_sample() {
    for choice in ClassifierChoice::ALL {
        let p = pipeline(choice);
        assert_eq!(p.classifier_choice(), choice);
        let (image, faces) = p.analyze_path(data("astronaut.png")).unwrap();
        assert_eq!(faces.len(), 1, "{choice}");
        let a = &faces[0].attributes;
        check_calibrated(&a.age_group, 12);
        check_calibrated(&a.gender, 2);
        check_calibrated(&a.ethnicity, 5);
        assert!(a.age_years.is_finite() && (1.0..100.0).contains(&a.age_years));
        // An aligned chip classified without detection takes the same path.
        let chip = p.align(&image, &faces[0].face);
        let again = p.classify_aligned(&chip).unwrap().attributes;
        check_calibrated(&again.gender, 2);
        assert!((again.gender.prob - a.gender.prob).abs() < 1e-5, "{choice}");
    }
}

#[test]
fn each_choice_reports_its_own_manifest() {
    let accurate = manifest("classifier");
    let fast = manifest("classifier-fast");
    assert_eq!(fast["version"], "2.5.1+fast");
    let a = pipeline(ClassifierChoice::Accurate);
    let f = pipeline(ClassifierChoice::Fast);
    assert_eq!(a.model_version().1, accurate["version"].as_str().unwrap());
    assert_eq!(f.model_version().1, fast["version"].as_str().unwrap());
    // Different bytes must carry different versions (and the same bytes the
    // same one): the version is how a caller tells the two apart.
    assert_eq!(
        accurate["sha256"] != fast["sha256"],
        accurate["version"] != fast["version"],
        "classifier {} and classifier-fast {}",
        accurate["version"],
        fast["version"]
    );
}

/// A models directory: `mtcnn/` and `classifier/` copied, the latter's
/// manifest re-versioned so the two folders are told apart, and
/// `classifier-fast/` only when asked.
fn models_dir(name: &str, with_fast: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faceless-choice-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let copy = |from: &str, to: &str| {
        std::fs::create_dir_all(dir.join(to)).unwrap();
        for f in std::fs::read_dir(repo().join("models").join(from)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.join(to).join(f.file_name().unwrap())).unwrap();
        }
    };
    copy("mtcnn", "mtcnn");
    copy("classifier", "classifier");
    let json = dir.join("classifier/faceless-attributes.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    m["version"] = "0.0.0-accurate-test".into();
    std::fs::write(&json, m.to_string()).unwrap();
    if with_fast {
        copy("classifier-fast", "classifier-fast");
    }
    dir
}

fn from_dir(dir: &Path, choice: ClassifierChoice) -> faceless::Result<Pipeline> {
    Pipeline::builder()
        .models(ModelSource::Directory(dir.to_path_buf()))
        .classifier(choice)
        .max_sessions(1)
        .build()
}

#[test]
fn a_models_directory_gives_each_choice_its_folder() {
    let dir = models_dir("both", true);
    let a = from_dir(&dir, ClassifierChoice::Accurate).unwrap();
    let f = from_dir(&dir, ClassifierChoice::Fast).unwrap();
    assert_eq!(a.model_version().1, "0.0.0-accurate-test");
    assert_eq!(
        f.model_version().1,
        manifest("classifier-fast")["version"].as_str().unwrap()
    );
    assert_eq!(f.analyze_path(data("astronaut.png")).unwrap().1.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fast_from_a_directory_without_its_folder_is_a_clear_model_error() {
    let dir = models_dir("no-fast", false);
    // The directory still serves the default.
    from_dir(&dir, ClassifierChoice::Accurate).unwrap();
    let e = from_dir(&dir, ClassifierChoice::Fast).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Model);
    let msg = e.to_string();
    assert!(
        msg.contains("`fast` classifier") && msg.contains("classifier-fast/"),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
