//! Faceless: find every face in a photo and estimate its age group, gender
//! and ethnicity, each with a calibrated probability.
