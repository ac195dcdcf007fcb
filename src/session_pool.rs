//! A pool of model sessions so one pipeline serves many threads at once.
//!
//! `ort::Session::run` needs `&mut self`, so a session can serve one call at
//! a time. Rather than one lock around one session (which would serialise
//! every caller), each call checks a whole set of sessions out of the pool,
//! creating a new set when all are busy, up to a limit; past the limit callers
//! wait. A [`Checkout`] guard gives the set back when dropped, so a steady
//! workload creates sessions once, and a panic cannot lose a slot.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::error::Result;

type Factory<T> = Box<dyn Fn() -> Result<T> + Send + Sync>;

pub(crate) struct Pool<T> {
    state: Mutex<State<T>>,
    returned: Condvar,
    factory: Factory<T>,
    limit: usize,
}

struct State<T> {
    idle: Vec<T>,
    created: usize,
}

/// One item checked out of a [`Pool`]. Dropping it returns the item, or,
/// while unwinding from a panic, discards it and frees its slot: a session
/// interrupted mid-call is not trusted again, but the pool must not shrink
/// for good (callers past the limit would wait forever).
pub(crate) struct Checkout<'a, T> {
    pool: &'a Pool<T>,
    item: Option<T>,
    // A checkout made while already unwinding (in a destructor) is returned
    // normally; only a panic that starts during the checkout discards.
    panicking_at_start: bool,
}

impl<'a, T> Checkout<'a, T> {
    fn new(pool: &'a Pool<T>, item: T) -> Self {
        Checkout {
            pool,
            item: Some(item),
            panicking_at_start: std::thread::panicking(),
        }
    }
}

impl<T> Deref for Checkout<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item.as_ref().expect("present until drop")
    }
}

impl<T> DerefMut for Checkout<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().expect("present until drop")
    }
}

impl<T> Drop for Checkout<'_, T> {
    fn drop(&mut self) {
        let Some(item) = self.item.take() else { return };
        let mut state = self.pool.lock();
        if std::thread::panicking() && !self.panicking_at_start {
            state.created -= 1;
            drop(state);
            // Drop the sessions outside the lock (they free native memory).
            drop(item);
        } else {
            // A failed run leaves an ONNX Runtime session usable.
            state.idle.push(item);
            drop(state);
        }
        self.pool.returned.notify_one();
    }
}

impl<T> Pool<T> {
    /// A pool that holds `first` and may grow to `limit` items.
    pub fn new(first: T, limit: usize, factory: Factory<T>) -> Self {
        Pool {
            state: Mutex::new(State {
                idle: vec![first],
                created: 1,
            }),
            returned: Condvar::new(),
            factory,
            limit: limit.max(1),
        }
    }

    /// The most items the pool will hold.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Runs `f` with exclusive use of one item.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> Result<R>) -> Result<R> {
        let mut item = self.checkout()?;
        f(&mut item)
    }

    // The state stays consistent across a panic (every update is one
    // statement), so a poisoned lock is taken over, not propagated.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Exclusive use of one item until the guard is dropped; waits while
    /// the pool is at its limit and every item is out.
    pub fn checkout(&self) -> Result<Checkout<'_, T>> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.idle.pop() {
                return Ok(Checkout::new(self, item));
            }
            if state.created < self.limit {
                state.created += 1;
                drop(state);
                // Build outside the lock: creating sessions takes milliseconds.
                // The slot is released on failure and on a panicking factory.
                let slot = Slot(self);
                let item = (self.factory)()?;
                std::mem::forget(slot);
                return Ok(Checkout::new(self, item));
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl<T> Pool<T> {
    /// An idle item, or a new one while under the limit; `None` (never a
    /// wait) when every allowed item is out. For work that can use more
    /// items but does not need them: a call takes spare capacity of the CPU
    /// budget without holding up callers that need their first item.
    pub fn try_checkout(&self) -> Option<Result<Checkout<'_, T>>> {
        let mut state = self.lock();
        if let Some(item) = state.idle.pop() {
            return Some(Ok(Checkout::new(self, item)));
        }
        if state.created >= self.limit {
            return None;
        }
        state.created += 1;
        drop(state);
        let slot = Slot(self);
        let item = match (self.factory)() {
            Ok(item) => item,
            Err(e) => return Some(Err(e)),
        };
        std::mem::forget(slot);
        Some(Ok(Checkout::new(self, item)))
    }
}

/// A reserved but not yet created item: gives its slot back unless forgotten.
struct Slot<'a, T>(&'a Pool<T>);

impl<T> Drop for Slot<'_, T> {
    fn drop(&mut self) {
        self.0.lock().created -= 1;
        self.0.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn grows_to_limit_and_reuses() {
        let made = Arc::new(AtomicUsize::new(1));
        let m = made.clone();
        let pool = Arc::new(Pool::new(
            0usize,
            3,
            Box::new(move || Ok(m.fetch_add(1, Ordering::SeqCst))),
        ));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        pool.with(|_| {
                            std::thread::yield_now();
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert!(made.load(Ordering::SeqCst) <= 3);
    }

    #[test]
    fn panics_free_their_slot() {
        let made = Arc::new(AtomicUsize::new(1));
        let m = made.clone();
        let pool = Pool::new(
            0usize,
            2,
            Box::new(move || Ok(m.fetch_add(1, Ordering::SeqCst))),
        );
        for _ in 0..5 {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                pool.with(|_| -> Result<()> { panic!("inside a checked-out item") })
            }));
            assert!(r.is_err());
        }
        // Each panic discarded its item and freed the slot: a call still runs
        // (on a fresh item) instead of waiting forever.
        assert_eq!(pool.with(|&mut i| Ok(i)).unwrap(), 5);
        assert_eq!(pool.lock().created, 1);
    }

    #[test]
    fn try_checkout_never_waits_or_exceeds_the_limit() {
        let pool = Pool::new(0usize, 2, Box::new(|| Ok(1)));
        let a = pool.checkout().unwrap();
        let b = pool.try_checkout().unwrap().unwrap();
        assert!(pool.try_checkout().is_none());
        drop(a);
        let c = pool.try_checkout().unwrap().unwrap();
        assert_eq!((*b, *c), (1, 0));
        assert_eq!(pool.lock().created, 2);
    }

    #[test]
    fn failed_factory_frees_its_slot() {
        let pool: Pool<usize> =
            Pool::new(0, 2, Box::new(|| Err(crate::Error::Runtime("no".into()))));
        let held = pool.checkout().unwrap();
        for _ in 0..3 {
            assert!(pool.checkout().is_err());
        }
        drop(held);
        assert_eq!(pool.with(|&mut i| Ok(i)).unwrap(), 0);
    }
}
