//! One place that feeds a float tensor to an ONNX Runtime session and copies
//! the named outputs back out, so model code never touches `ort` types, and
//! checks every output's shape, so model code can index without bounds
//! worries and a wrong model is [`Error::Model`], never a panic.

use std::sync::atomic::{AtomicU64, Ordering};

use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{Error, Result};

/// CPU time spent inside ONNX Runtime's `run` by the calling threads,
/// summed over the process: `make bench` sets it against the process's CPU
/// time to show our own overhead. CPU time, not wall time, so that other
/// load on the machine does not count; with one intra-op thread (the
/// default) a run does all its work on the calling thread. Two clock reads
/// per run, well under a microsecond.
static NETWORK_NANOS: AtomicU64 = AtomicU64::new(0);

/// This thread's CPU time in nanoseconds (0 where unavailable).
fn thread_cpu_nanos() -> u64 {
    #[cfg(unix)]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec we own.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64;
        }
    }
    0
}

/// The total of [`NETWORK_NANOS`] so far.
pub(crate) fn network_time() -> std::time::Duration {
    std::time::Duration::from_nanos(NETWORK_NANOS.load(Ordering::Relaxed))
}

/// A dense float tensor: its shape and its values in row-major order.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// One dimension of an expected output shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dim {
    /// The input's batch size.
    Batch,
    /// Exactly this size.
    Is(usize),
    /// Any size, but the same for every `Free` of the same number across
    /// the outputs of one run (maps over one grid).
    Free(u8),
}

/// An output to fetch: its name and the shape it must have.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect {
    pub name: &'static str,
    pub dims: &'static [Dim],
}

/// Checks `outputs` (in the order of `expected`) against their expected
/// shapes for a batch of `batch`.
fn check_shapes(
    model: &'static str,
    batch: usize,
    expected: &[Expect],
    outputs: &[Output],
) -> Result<()> {
    let mut free: Vec<(u8, usize)> = Vec::new();
    for (e, o) in expected.iter().zip(outputs) {
        let fits = o.shape.len() == e.dims.len()
            && o.data.len() == o.shape.iter().product::<usize>()
            && e.dims.iter().zip(&o.shape).all(|(&d, &got)| match d {
                Dim::Batch => got == batch,
                Dim::Is(n) => got == n,
                Dim::Free(k) => match free.iter().find(|(id, _)| *id == k) {
                    Some(&(_, seen)) => got == seen,
                    None => {
                        free.push((k, got));
                        true
                    }
                },
            });
        if !fits {
            return Err(Error::model(
                model,
                format!(
                    "output {:?} has shape {:?}, expected {:?} for a batch of {batch}",
                    e.name, o.shape, e.dims
                ),
            ));
        }
    }
    Ok(())
}

/// Runs `session` on one input tensor named `input` and returns the outputs
/// listed in `expected`, in that order, each checked against its shape. The
/// input is lent to ONNX Runtime, not copied.
pub(crate) fn run(
    session: &mut Session,
    model: &'static str,
    shape: [usize; 4],
    data: &[f32],
    expected: &[Expect],
) -> Result<Vec<Output>> {
    debug_assert_eq!(shape.iter().product::<usize>(), data.len());
    let tensor =
        TensorRef::from_array_view((shape, data)).map_err(|e| Error::inference(model, e))?;
    let started = thread_cpu_nanos();
    let outputs = session
        .run(ort::inputs!["input" => tensor])
        .map_err(|e| Error::inference(model, e))?;
    NETWORK_NANOS.fetch_add(
        thread_cpu_nanos().saturating_sub(started),
        Ordering::Relaxed,
    );
    let fetched = expected
        .iter()
        .map(|&Expect { name, .. }| {
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
        .collect::<Result<Vec<_>>>()?;
    check_shapes(model, shape[0], expected, &fetched)?;
    Ok(fetched)
}

/// Like [`run`] for a batch `[n, c, h, w]`, but in slices of at most
/// `chunk` items whose outputs are concatenated in input order. Large
/// batches (thousands of R-Net proposals on a crowd photo) would otherwise
/// make ONNX Runtime's arena grow to the biggest intermediate tensor and keep
/// it. The slices are shared out among `sessions`, one thread each (this one
/// and `sessions.len() - 1` more; with one session no thread is started),
/// smaller than `chunk` where that gives every session one.
pub(crate) fn run_chunked(
    sessions: &mut [&mut Session],
    model: &'static str,
    shape: [usize; 4],
    data: &[f32],
    expected: &[Expect],
    chunk: usize,
) -> Result<Vec<Output>> {
    let [n, c, h, w] = shape;
    let per = c * h * w;
    let shares = sessions.len().max(1);
    let chunk = chunk.min(n.div_ceil(shares)).max(1);
    // An empty batch is one empty slice, so its outputs still come back.
    let slices = n.div_ceil(chunk).max(1);
    if sessions.is_empty() {
        return Err(Error::model(model, "no session to run"));
    }
    let outcomes = crate::batch::share(sessions, slices, |session, k| {
        let (start, m) = (k * chunk, chunk.min(n - k * chunk));
        let part = &data[start * per..(start + m) * per];
        run(session, model, [m, c, h, w], part, expected)
    });
    let mut merged: Vec<Output> = Vec::new();
    for outs in outcomes {
        let outs = outs?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn out(shape: &[usize]) -> Output {
        Output {
            shape: shape.to_vec(),
            data: vec![0.0; shape.iter().product()],
        }
    }

    // Two maps that must share one free grid.
    const GRID: [Expect; 2] = [
        Expect {
            name: "reg",
            dims: &[Dim::Batch, Dim::Is(4), Dim::Free(0), Dim::Free(1)],
        },
        Expect {
            name: "prob",
            dims: &[Dim::Batch, Dim::Is(2), Dim::Free(0), Dim::Free(1)],
        },
    ];

    #[test]
    fn shapes_are_checked() {
        assert!(check_shapes("m", 1, &GRID, &[out(&[1, 4, 3, 5]), out(&[1, 2, 3, 5])]).is_ok());
        for bad in [
            [out(&[1, 4, 3, 5]), out(&[1, 2, 3, 4])], // grids differ
            [out(&[2, 4, 3, 5]), out(&[2, 2, 3, 5])], // wrong batch
            [out(&[1, 4, 3, 5]), out(&[1, 1, 3, 5])], // wrong channels
            [out(&[1, 4, 3, 5]), out(&[1, 2, 15])],   // wrong rank
        ] {
            let e = check_shapes("m", 1, &GRID, &bad).unwrap_err();
            assert!(matches!(e, Error::Model { .. }), "{e}");
        }
    }
}
