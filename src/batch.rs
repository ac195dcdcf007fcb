//! The one batch scheduler: items run on a few threads sharing one handle,
//! and their outcomes reach the caller in input order as they complete.
//! [`share`] does the same for the parts of one job (P-Net's bands, R-Net's
//! and O-Net's crops), each thread with a worker of its own, and
//! [`share_hiring`] for parts that idle threads may join as they go (an
//! image's faces).

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};

use crate::error::{Error, Result};

/// Runs `work(held, i)` for every `i < count` on up to `workers` threads
/// and calls `deliver(i, outcome)` on the calling thread, in order of `i`.
/// Each thread makes its `held` value with `hold` before its first item (or
/// again after a failure to make it, which is that item's error) and keeps
/// it across its items: a batch's session set stays its thread's between
/// images, so other calls never take it for an idle thread. A panic in
/// `work` is that item's [`Error::Internal`] and drops `held` while
/// unwinding (a session set is then discarded, not trusted again); the other
/// items go on.
///
/// When the items split evenly among the threads (a multiple of `workers`,
/// or no more items than `workers`), every thread tries `try_hold` (which
/// must never wait) before any starts work: a thread that started first
/// could otherwise hire, as a helper for its own item, the idle session set
/// a later thread was about to claim, and the items would run one after the
/// other, each on all threads, which scales worse than one item per thread.
/// A thread that gets nothing then (other calls hold the sets) waits in
/// `hold` for its first item, without holding up the others. Otherwise they
/// claim as they go: the first item hires the idle threads and the rest
/// follow one per thread, so that the odd item out runs on all threads at
/// the start instead of alone at the end (hiring a thread that falls idle
/// mid-item comes later there, at the next part it hands out). A thread that
/// runs out of items drops its `held` value, for items still running to hire.
pub(crate) fn run<S, T: Send>(
    count: usize,
    workers: usize,
    try_hold: impl Fn() -> Option<Result<S>> + Sync,
    hold: impl Fn() -> Result<S> + Sync,
    work: impl Fn(&mut S, usize) -> Result<T> + Sync,
    mut deliver: impl FnMut(usize, Result<T>),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<T>)>();
    let threads = workers.clamp(1, count.max(1));
    let claim_first = count.is_multiple_of(threads);
    let claimed = Barrier::new(threads);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, try_hold, hold, work, claimed) = (&next, &try_hold, &hold, &work, &claimed);
            scope.spawn(move || {
                // A panic in `try_hold` must not leave the others at the barrier.
                let mut held: Option<Result<S>> = None;
                if claim_first {
                    held = catch_unwind(AssertUnwindSafe(try_hold))
                        .unwrap_or_else(|p| Some(Err(Error::from_panic(p))));
                    claimed.wait();
                }
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let outcome = match held.take().unwrap_or_else(hold) {
                        Err(e) => Err(e),
                        Ok(mut h) => catch_unwind(AssertUnwindSafe(|| {
                            let r = work(&mut h, i);
                            (h, r)
                        }))
                        .map_or_else(
                            |p| Err(Error::from_panic(p)),
                            |(h, r)| {
                                held = Some(Ok(h));
                                r
                            },
                        ),
                    };
                    if tx.send((i, outcome)).is_err() {
                        break;
                    }
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

/// The items of one shared job: the next index to take, and a slot for each
/// outcome so that they come back in order.
struct Queue<T> {
    next: AtomicUsize,
    slots: Vec<Mutex<Option<T>>>,
}

impl<T> Queue<T> {
    fn new(count: usize) -> Self {
        Queue {
            next: AtomicUsize::new(0),
            slots: (0..count).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Items not yet taken.
    fn left(&self) -> usize {
        self.slots
            .len()
            .saturating_sub(self.next.load(Ordering::Relaxed))
    }

    /// The next item's index; `None` once every item is taken.
    fn claim(&self) -> Option<usize> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        (i < self.slots.len()).then_some(i)
    }

    fn put(&self, i: usize, outcome: T) {
        *self.slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
    }

    /// Runs `work` on item after item until every item is taken.
    fn drain(&self, mut work: impl FnMut(usize) -> T) {
        while let Some(i) = self.claim() {
            self.put(i, work(i));
        }
    }

    fn outcomes(self) -> Vec<T> {
        self.slots
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|p| p.into_inner())
                    .expect("every item ran")
            })
            .collect()
    }
}

/// Runs `work(worker, i)` for every `i < count`, each item taken by the
/// next free worker of `workers`, one thread each (this one and up to
/// `workers.len() - 1` more; with one worker, or one item, no thread is
/// started), and returns the outcomes in order of `i`. `workers` must not be
/// empty. A panic in `work` reaches the caller once the other threads are
/// done.
pub(crate) fn share<W: Send, T: Send>(
    workers: &mut [W],
    count: usize,
    work: impl Fn(&mut W, usize) -> T + Sync,
) -> Vec<T> {
    let (mut first, rest) = workers.split_first_mut().expect("share needs a worker");
    // Every other worker is hired at the first item, one per item left.
    let mut rest = Some(rest);
    let hire = |left: usize| {
        rest.take()
            .map(|rest| rest.iter_mut().take(left).collect())
            .unwrap_or_default()
    };
    share_hired(&mut first, count, hire, |worker, i| work(worker, i), drop)
}

/// Runs `work(worker, i)` for every `i < count` and returns the outcomes in
/// order of `i`, with the workers hired on the way. This thread takes items
/// one after another with `own`; before each, `hire(left)` gives workers for
/// up to `left` more threads (those of the CPU budget idle now), and each
/// hired worker's thread takes items too until none are left. With one item
/// no thread is started. A panic in `work` reaches the caller once the
/// other threads are done.
pub(crate) fn share_joining<W: Send, T: Send>(
    own: &mut W,
    count: usize,
    hire: impl FnMut(usize) -> Vec<W>,
    work: impl Fn(&mut W, usize) -> T + Sync,
) -> (Vec<T>, Vec<W>) {
    let hired = Mutex::new(Vec::new());
    let outcomes = share_hired(own, count, hire, work, |worker| {
        hired.lock().unwrap_or_else(|p| p.into_inner()).push(worker);
    });
    let hired = hired.into_inner().unwrap_or_else(|p| p.into_inner());
    (outcomes, hired)
}

/// Runs `work(i)` for every `i < count` and returns the outcomes in order
/// of `i`. This thread takes items one after another; before each,
/// `hire(left)` gives tokens for up to `left` more threads (those of the
/// CPU budget idle now), and each token's thread takes items too until none
/// are left, then drops its token. With one item no thread is started. A
/// panic in `work` reaches the caller once the other threads are done.
pub(crate) fn share_hiring<H: Send, T: Send>(
    count: usize,
    hire: impl Fn(usize) -> Vec<H>,
    work: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    share_hired(
        &mut None,
        count,
        |left| hire(left).into_iter().map(Some).collect(),
        |_, i| work(i),
        drop,
    )
}

/// The loop of [`share_joining`] and [`share_hiring`]: each hired worker's
/// thread hands its worker to `retire` as soon as it runs out of items, so
/// that a token goes back to its pool then, not when the whole share ends.
fn share_hired<W: Send, T: Send>(
    own: &mut W,
    count: usize,
    mut hire: impl FnMut(usize) -> Vec<W>,
    work: impl Fn(&mut W, usize) -> T + Sync,
    retire: impl Fn(W) + Sync,
) -> Vec<T> {
    let queue = Queue::new(count);
    std::thread::scope(|scope| {
        while let Some(i) = queue.claim() {
            let left = queue.left();
            if left > 0 {
                for mut worker in hire(left) {
                    let (queue, work, retire) = (&queue, &work, &retire);
                    scope.spawn(move || {
                        queue.drain(|i| work(&mut worker, i));
                        retire(worker);
                    });
                }
            }
            queue.put(i, work(own, i));
        }
    });
    queue.outcomes()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its drops in the counter it borrows.
    struct Token<'a>(&'a AtomicUsize);

    impl Drop for Token<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn in_order_and_panics_isolated() {
        let mut seen = Vec::new();
        super::run(
            20,
            4,
            || None,
            || Ok(()),
            |_, i| {
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

    #[test]
    fn every_thread_claims_before_any_works() {
        for panicking in [false, true] {
            let tries = AtomicUsize::new(0);
            let mut seen = Vec::new();
            super::run(
                2,
                2,
                || {
                    let n = tries.fetch_add(1, Ordering::SeqCst);
                    // One thread's claim finds nothing (or panics): it waits in
                    // `hold` for its first item instead.
                    if n == 0 && panicking {
                        panic!("claim");
                    }
                    (n > 0).then_some(Ok(()))
                },
                || Ok(()),
                |_, _| {
                    // Long enough that the other thread takes the other item.
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    Ok(tries.load(Ordering::SeqCst))
                },
                |i, r| seen.push((i, r.ok())),
            );
            // Every item saw both claims made; a panicking claim is one item's error.
            let failed = seen.iter().filter(|(_, r)| r.is_none()).count();
            assert_eq!(failed, usize::from(panicking));
            assert!(
                seen.iter().all(|(_, r)| r.is_none_or(|n| n == 2)),
                "{seen:?}"
            );
        }
        // More items than threads: each thread claims first, once, when they
        // split evenly; otherwise they claim as they go, never through `try_hold`.
        for (count, claims) in [(6, 2), (5, 0)] {
            let (tries, mut ok) = (AtomicUsize::new(0), 0);
            super::run(
                count,
                2,
                || {
                    tries.fetch_add(1, Ordering::SeqCst);
                    Some(Ok(()))
                },
                || Ok(()),
                |_, i| Ok(i),
                |_, r| ok += usize::from(r.is_ok()),
            );
            assert_eq!((tries.load(Ordering::SeqCst), ok), (claims, count));
        }
    }

    #[test]
    fn joining_workers_take_items_and_come_back() {
        for count in [0, 1, 40] {
            let (hires, asked_too_much) = (AtomicUsize::new(0), AtomicUsize::new(0));
            let mut own = 0usize;
            let (out, hired) = super::share_joining(
                &mut own,
                count,
                |left| {
                    if left >= count {
                        asked_too_much.fetch_add(1, Ordering::SeqCst);
                    }
                    // Two workers join, at the first and at the fifth item.
                    let n = hires.fetch_add(1, Ordering::SeqCst);
                    if left > 0 && (n == 0 || n == 4) {
                        vec![n + 1]
                    } else {
                        Vec::new()
                    }
                },
                |id, i| {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    (i, *id)
                },
            );
            assert_eq!(
                out.iter().map(|o| o.0).collect::<Vec<_>>(),
                (0..count).collect::<Vec<_>>()
            );
            assert_eq!(asked_too_much.load(Ordering::SeqCst), 0);
            let mut hired = hired;
            hired.sort_unstable();
            let workers: std::collections::BTreeSet<_> = out.iter().map(|o| o.1).collect();
            if count >= 40 {
                assert_eq!(hired, [1, 5]);
                // The first hire has 39 items to share: it takes some.
                assert!(workers.contains(&1) && workers.iter().all(|w| [0, 1, 5].contains(w)));
            } else {
                assert!(hired.is_empty());
                assert!(workers.iter().all(|&w| w == 0));
            }
        }
    }

    #[test]
    fn hired_helpers_take_items_and_give_their_tokens_back() {
        for count in [0, 1, 40] {
            let (hired, back, asked_too_much) = (
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            );
            let out = super::share_hiring(
                count,
                |left| {
                    if left >= count {
                        asked_too_much.fetch_add(1, Ordering::SeqCst);
                    }
                    // One spare thread, hired once.
                    let first = hired.fetch_add(1, Ordering::SeqCst) == 0;
                    (first && left > 0)
                        .then(|| Token(&back))
                        .into_iter()
                        .collect()
                },
                |i| {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    (i, std::thread::current().id())
                },
            );
            assert_eq!(
                out.iter().map(|o| o.0).collect::<Vec<_>>(),
                (0..count).collect::<Vec<_>>()
            );
            assert_eq!(asked_too_much.load(Ordering::SeqCst), 0);
            let threads: std::collections::HashSet<_> = out.iter().map(|o| o.1).collect();
            assert_eq!(threads.len(), if count >= 40 { 2 } else { count.min(1) });
            assert_eq!(back.load(Ordering::SeqCst), usize::from(count > 1));
        }
    }

    #[test]
    fn a_helper_gives_its_token_back_when_the_items_run_out() {
        // This thread holds item 0 until the helper has taken every other
        // item and given its token back, which must not wait for item 0.
        let back = AtomicUsize::new(0);
        let caller = std::thread::current().id();
        let out = super::share_hiring(
            8,
            |left| (left == 7).then(|| Token(&back)).into_iter().collect(),
            |i| {
                if std::thread::current().id() != caller {
                    return true;
                }
                let start = std::time::Instant::now();
                while back.load(Ordering::SeqCst) == 0 {
                    if start.elapsed() > std::time::Duration::from_secs(10) {
                        return false;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                i == 0
            },
        );
        assert_eq!(out, [true; 8]);
    }

    #[test]
    fn shared_items_come_back_in_order() {
        for (workers, count) in [(1, 0), (1, 5), (3, 2), (3, 50)] {
            let mut ids: Vec<usize> = (0..workers).collect();
            let out = super::share(&mut ids, count, |id, i| (i, *id));
            assert_eq!(
                out.iter().map(|o| o.0).collect::<Vec<_>>(),
                (0..count).collect::<Vec<_>>()
            );
            assert!(out.iter().all(|o| o.1 < workers.min(count.max(1))));
        }
    }

    #[test]
    fn held_values_last_across_items_and_die_with_a_panic() {
        let (made, dropped) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut seen = Vec::new();
        super::run(
            6,
            1,
            || None,
            || {
                // The first attempt fails: that item's error, and the next
                // item tries again.
                if made.fetch_add(1, Ordering::Relaxed) == 0 {
                    Err(crate::error::Error::Internal("no set".into()))
                } else {
                    Ok(Token(&dropped))
                }
            },
            |_, i| {
                if i == 3 {
                    panic!("item three");
                }
                Ok(i)
            },
            |i, r| seen.push((i, r.is_ok())),
        );
        let ok: Vec<bool> = seen.iter().map(|&(_, ok)| ok).collect();
        assert_eq!(ok, [false, true, true, false, true, true]);
        // One failed attempt, one value for items 1-3 (dropped by the panic),
        // one for items 4-5 (dropped at the end).
        assert_eq!(made.load(Ordering::Relaxed), 3);
        assert_eq!(dropped.load(Ordering::Relaxed), 2);
    }
}
