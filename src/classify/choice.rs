//! Which of the two embedded classifiers a pipeline runs.

/// The classifier to run: the same contract (input, outputs, labels), a
/// different balance of accuracy against time per face.
///
/// `Accurate` is the default; `Fast` runs fewer networks (about half the
/// time per face) for callers whose budget per face is tighter than
/// `Accurate`'s gain is worth. Both are compiled into the library; the
/// README's "Accuracy and speed, measured" tables measure the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClassifierChoice {
    /// The most accurate classifier (`models/classifier/`).
    #[default]
    Accurate,
    /// The faster, slightly less accurate classifier
    /// (`models/classifier-fast/`).
    Fast,
}

impl ClassifierChoice {
    /// Every choice, in the order of the C ABI's codes.
    pub const ALL: [ClassifierChoice; 2] = [ClassifierChoice::Accurate, ClassifierChoice::Fast];

    /// Its name on the command line and in the bindings.
    pub fn name(self) -> &'static str {
        match self {
            ClassifierChoice::Accurate => "accurate",
            ClassifierChoice::Fast => "fast",
        }
    }

    /// The folder of a models directory it is read from.
    pub(crate) fn folder(self) -> &'static str {
        match self {
            ClassifierChoice::Accurate => "classifier",
            ClassifierChoice::Fast => "classifier-fast",
        }
    }
}

impl std::fmt::Display for ClassifierChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
