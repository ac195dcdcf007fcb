//! The one batch scheduler: items run on a few threads sharing one handle,
//! and their outcomes reach the caller in input order as they complete.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Runs `work(i)` for every `i < count` on up to `workers` threads and calls
/// `deliver(i, outcome)` on the calling thread, in order of `i`. A panic in
/// `work` is that item's [`Error::Internal`]; the other items go on.
pub(crate) fn run<T: Send>(
    count: usize,
    workers: usize,
    work: impl Fn(usize) -> Result<T> + Sync,
    mut deliver: impl FnMut(usize, Result<T>),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<T>)>();
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, count.max(1)) {
            let tx = tx.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let outcome = catch_unwind(AssertUnwindSafe(|| work(i)))
                    .unwrap_or_else(|p| Err(Error::from_panic(p)));
                if tx.send((i, outcome)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // Out-of-order completions wait here until their turn.
        let mut pending = BTreeMap::new();
        let mut due = 0;
        for (i, outcome) in rx {
            pending.insert(i, outcome);
            while let Some(outcome) = pending.remove(&due) {
                deliver(due, outcome);
                due += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn in_order_and_panics_isolated() {
        let mut seen = Vec::new();
        super::run(
            20,
            4,
            |i| {
                if i == 7 {
                    panic!("item seven");
                }
                std::thread::sleep(std::time::Duration::from_millis((20 - i as u64) % 5));
                Ok(i * 2)
            },
            |i, r| seen.push((i, r.ok())),
        );
        let expected: Vec<_> = (0..20).map(|i| (i, (i != 7).then_some(i * 2))).collect();
        assert_eq!(seen, expected);
    }
}
