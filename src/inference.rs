//! One place that feeds a float tensor to an ONNX Runtime session and copies
//! the named outputs back out, so model code never touches `ort` types.

use ort::session::Session;
use ort::value::Tensor;

use crate::error::{Error, Result};

/// A dense float tensor: its shape and its values in row-major order.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Runs `session` on one input tensor named `input` and returns the outputs
/// listed in `names`, in that order.
pub(crate) fn run(
    session: &mut Session,
    model: &'static str,
    shape: [usize; 4],
    data: Vec<f32>,
    names: &[&str],
) -> Result<Vec<Output>> {
    debug_assert_eq!(shape.iter().product::<usize>(), data.len());
    let tensor = Tensor::from_array((shape, data)).map_err(|e| Error::inference(model, e))?;
    let outputs = session
        .run(ort::inputs!["input" => tensor])
        .map_err(|e| Error::inference(model, e))?;
    names
        .iter()
        .map(|name| {
            let value = outputs
                .get(name)
                .ok_or_else(|| Error::model(model, format!("has no output named {name:?}")))?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(|e| {
                Error::model(model, format!("output {name:?} is not a float tensor: {e}"))
            })?;
            Ok(Output {
                shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                data: data.to_vec(),
            })
        })
        .collect()
}
