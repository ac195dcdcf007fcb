//! A pool of model sessions so one pipeline serves many threads at once.
//!
//! `ort::Session::run` needs `&mut self`, so a session can serve one call at
//! a time. Rather than one lock around one session (which would serialise
//! every caller), each call checks a whole set of sessions out of the pool,
//! creating a new set when all are busy, up to a limit; past the limit callers
//! wait. Sets are returned on drop and reused, so a steady workload creates
//! sessions once.

use std::sync::{Condvar, Mutex};

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
        let result = f(&mut item);
        // Return the item even when `f` failed: a failed run leaves an ONNX
        // Runtime session usable.
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.idle.push(item);
        drop(state);
        self.returned.notify_one();
        result
    }

    fn checkout(&self) -> Result<T> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(item) = state.idle.pop() {
                return Ok(item);
            }
            if state.created < self.limit {
                state.created += 1;
                drop(state);
                // Build outside the lock: creating sessions takes milliseconds.
                return (self.factory)().inspect_err(|_| {
                    self.state.lock().unwrap_or_else(|p| p.into_inner()).created -= 1;
                });
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
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
}
