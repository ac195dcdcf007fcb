//! How model sessions are made: the options every builder shares
//! ([`crate::DetectorBuilder`], [`crate::PipelineBuilder`]) and the pool a
//! detector or classifier keeps its sessions in.

use crate::error::Result;
use crate::models::ModelSource;
use crate::runtime::{self, RuntimeOptions};
use crate::session_pool::Pool;

/// Where the models come from, how ONNX Runtime runs them, and how many
/// calls may run at once.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// How ONNX Runtime is found and configured.
    pub runtime: RuntimeOptions,
    /// Where the models come from (embedded by default).
    pub models: ModelSource,
    /// The CPU budget: most model runs at once, each on one thread (with
    /// [`RuntimeOptions::intra_threads`] at its default of 1). Calls in
    /// parallel use one session set each and further callers wait; a call
    /// alone spreads its image's pyramid over the idle sets; batches run
    /// this many images at once. 0 (the default) means the number of CPUs.
    pub max_sessions: usize,
}

impl SessionOptions {
    /// The pool's limit: `max_sessions`, or the number of CPUs for 0.
    pub(crate) fn limit(&self) -> usize {
        if self.max_sessions > 0 {
            self.max_sessions
        } else {
            std::thread::available_parallelism().map_or(4, |n| n.get())
        }
    }

    /// A pool holding one item made now (so a bad model fails the build, not
    /// the first call) and growing with `make` up to [`Self::limit`].
    pub(crate) fn pool<T: 'static>(
        &self,
        make: impl Fn(&ort::environment::Environment, &RuntimeOptions) -> Result<T>
            + Send
            + Sync
            + 'static,
    ) -> Result<Pool<T>> {
        let (env, _) = runtime::environment(&self.runtime)?;
        // Creating a session parses and optimises the model in memory that
        // is freed at the end but that the C allocator keeps (tens of MB for
        // the classifier); give it back, and the embedded model bytes it read.
        let make = move |env: &ort::environment::Environment, rt: &RuntimeOptions| {
            let item = make(env, rt);
            crate::memory::trim();
            crate::models::release_embedded();
            item
        };
        let first = make(&env, &self.runtime)?;
        let rt = self.runtime.clone();
        Ok(Pool::new(
            first,
            self.limit(),
            Box::new(move || make(&env, &rt)),
        ))
    }
}
