//! What `detect` and `analyze` print per image: one JSON object per line
//! (`--json`, described by schemas/faceless-cli.schema.json), or by default
//! Python literals, one per line, that `ast.literal_eval` reads back:
//!
//! ```text
//! 'photo.jpg'
//! {'face_0': {'box': [x1, y1, x2, y2], 'confidence': 0.999}}
//! {'face_0': {'age': 31.2, 'age_group': ('30-34', 0.41), 'gender': ('female', 0.97), ...}}
//! ```
//!
//! (the last line only for `analyze`).

use std::io::Write;
use std::path::Path;

use faceless::{Face, FaceAnalysis, Prediction};
use serde_json::{json, Map, Value};

/// One image's result, as `--json` or as Python literals.
pub struct Report<'a> {
    pub path: &'a Path,
    /// The image's width and height.
    pub size: (u32, u32),
    pub faces: Faces<'a>,
}

/// Detections alone (`detect`) or with attributes (`analyze`).
pub enum Faces<'a> {
    Detected(&'a [Face]),
    Analysed(&'a [FaceAnalysis]),
}

impl Report<'_> {
    pub fn write(&self, out: &mut impl Write, as_json: bool) -> std::io::Result<()> {
        if as_json {
            writeln!(out, "{}", self.json())
        } else {
            self.write_python(out)
        }
    }

    fn json(&self) -> Value {
        let faces: Vec<Value> = match self.faces {
            Faces::Detected(faces) => faces
                .iter()
                .enumerate()
                .map(|(i, f)| Value::Object(face_json(i, f)))
                .collect(),
            Faces::Analysed(faces) => faces.iter().map(analysis_json).collect(),
        };
        let mut line = Map::new();
        line.insert("image".into(), json!(self.path.to_string_lossy()));
        if self.path.to_str().is_none() {
            line.insert("image_lossy".into(), json!(true));
        }
        line.insert("width".into(), json!(self.size.0));
        line.insert("height".into(), json!(self.size.1));
        line.insert("faces".into(), Value::Array(faces));
        Value::Object(line)
    }

    fn write_python(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "{}", py_str(&self.path.to_string_lossy()))?;
        let boxes = |id: usize, f: &Face| {
            let b = f.bbox;
            format!(
                "'face_{id}': {{'box': [{:.0}, {:.0}, {:.0}, {:.0}], 'confidence': {:.3}}}",
                b[0], b[1], b[2], b[3], f.score
            )
        };
        match self.faces {
            Faces::Detected(faces) => {
                let b: Vec<String> = faces.iter().enumerate().map(|(i, f)| boxes(i, f)).collect();
                writeln!(out, "{{{}}}", b.join(", "))
            }
            Faces::Analysed(faces) => {
                let b: Vec<String> = faces.iter().map(|f| boxes(f.id, &f.face)).collect();
                writeln!(out, "{{{}}}", b.join(", "))?;
                let pair = |p: &Prediction| format!("({}, {:.2})", py_str(&p.label), p.prob);
                let a: Vec<String> = faces
                    .iter()
                    .map(|f| {
                        let a = &f.attributes;
                        format!(
                            "'face_{}': {{'age': {:.1}, 'age_group': {}, 'gender': {}, 'ethnicity': {}}}",
                            f.id,
                            a.age_years,
                            pair(&a.age_group),
                            pair(&a.gender),
                            pair(&a.ethnicity)
                        )
                    })
                    .collect();
                writeln!(out, "{{{}}}", a.join(", "))
            }
        }
    }
}

/// A Python string literal for `s`, quoted and escaped as `repr` would.
pub fn py_str(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('\'');
    for c in s.chars() {
        match c {
            '\\' => q.push_str("\\\\"),
            '\'' => q.push_str("\\'"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                q.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => q.push(c),
        }
    }
    q.push('\'');
    q
}

fn round(v: f32, digits: i32) -> Value {
    let k = 10f64.powi(digits);
    json!((f64::from(v) * k).round() / k)
}

fn face_json(id: usize, face: &Face) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("box".into(), json!(face.bbox.map(|v| round(v, 2))));
    m.insert("score".into(), round(face.score, 6));
    m.insert(
        "landmarks".into(),
        json!(face.landmarks.map(|p| [round(p[0], 2), round(p[1], 2)])),
    );
    m
}

fn probs_by_label(p: &Prediction) -> Value {
    let mut m = Map::new();
    for (label, prob) in p.labels.iter().zip(&p.probs) {
        m.insert(label.clone(), round(*prob, 4));
    }
    Value::Object(m)
}

fn analysis_json(fa: &FaceAnalysis) -> Value {
    let a = &fa.attributes;
    let mut m = face_json(fa.id, &fa.face);
    m.insert("age".into(), round(a.age_years, 1));
    m.insert(
        "age_group".into(),
        json!({"index": a.age_group.index, "label": a.age_group.label, "prob": round(a.age_group.prob, 4),
               "probs": a.age_group.probs.iter().map(|&p| round(p, 4)).collect::<Vec<_>>()}),
    );
    m.insert(
        "gender".into(),
        json!({"label": a.gender.label, "prob": round(a.gender.prob, 4),
               "probs": probs_by_label(&a.gender)}),
    );
    m.insert(
        "ethnicity".into(),
        json!({"label": a.ethnicity.label, "prob": round(a.ethnicity.prob, 4),
               "probs": probs_by_label(&a.ethnicity)}),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::py_str;

    #[test]
    fn python_strings_are_escaped() {
        assert_eq!(py_str("a.jpg"), "'a.jpg'");
        assert_eq!(py_str("it's\\x\n"), "'it\\'s\\\\x\\n'");
        assert_eq!(py_str("\u{1}é"), "'\\x01é'");
    }
}
