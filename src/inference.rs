//! One place that feeds a float tensor to an ONNX Runtime session and copies
//! the named outputs back out, so model code never touches `ort` types.

use ort::session::{RunOptions, Session};
use ort::value::TensorRef;

use crate::error::{Error, Result};

/// A dense float tensor: its shape and its values in row-major order.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Runs `session` on one input tensor named `input` and returns the outputs
/// listed in `names`, in that order. The input is lent to ONNX Runtime, not
/// copied.
pub(crate) fn run(
    session: &mut Session,
    model: &'static str,
    shape: [usize; 4],
    data: &[f32],
    names: &[&str],
) -> Result<Vec<Output>> {
    debug_assert_eq!(shape.iter().product::<usize>(), data.len());
    let tensor =
        TensorRef::from_array_view((shape, data)).map_err(|e| Error::inference(model, e))?;
    // During a large image, each run frees the arena memory it grew (see
    // `memory.rs`).
    let shrink = if crate::memory::shrinking() {
        let mut o = RunOptions::new().map_err(|e| Error::inference(model, e))?;
        o.set("memory.enable_memory_arena_shrinkage", "cpu:0")
            .map_err(|e| Error::inference(model, e))?;
        Some(o)
    } else {
        None
    };
    let inputs = ort::inputs!["input" => tensor];
    let outputs = match &shrink {
        Some(o) => session.run_with_options(inputs, o),
        None => session.run(inputs),
    }
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

/// Like [`run`] for a batch `[n, c, h, w]`, but in slices of at most
/// `chunk` items whose outputs are concatenated. Large batches (thousands of
/// R-Net proposals on a crowd photo) would otherwise make ONNX Runtime's
/// arena grow to the biggest intermediate tensor and keep it.
pub(crate) fn run_chunked(
    session: &mut Session,
    model: &'static str,
    shape: [usize; 4],
    data: &[f32],
    names: &[&str],
    chunk: usize,
) -> Result<Vec<Output>> {
    let [n, c, h, w] = shape;
    if n <= chunk {
        return run(session, model, shape, data, names);
    }
    let per = c * h * w;
    let mut merged: Vec<Output> = Vec::new();
    for start in (0..n).step_by(chunk) {
        let m = chunk.min(n - start);
        let part = &data[start * per..(start + m) * per];
        let outs = run(session, model, [m, c, h, w], part, names)?;
        if merged.is_empty() {
            merged = outs;
        } else {
            for (all, o) in merged.iter_mut().zip(outs) {
                all.shape[0] += o.shape[0];
                all.data.extend_from_slice(&o.data);
            }
        }
    }
    Ok(merged)
}
