//! An operator link's own runtime: one thread running a current-thread tokio runtime.
//!
//! A bind's socket is answered within a millisecond by the SMSC; if its task sits in the same
//! run queue as API requests (each parses and stores a batch of up to `max_batch` messages
//! without yielding), the response waits in the socket until a worker is free. On their own
//! thread the binds are woken by the kernel as soon as a response arrives, and they compete
//! with the API for CPU time through the OS scheduler rather than behind whole requests.
//! One thread per operator: an API batch reaches every operator at once, and the operators'
//! answers are then read in parallel, not one operator's after another's are handled.
//! (Measured, load-tests/RESULTS.md: one shared thread for all binds gave p99 3.0–4.9 ms at
//! 50,000 SMS/s, one per operator 2.8–4.3 ms; a two-worker runtime for all binds 5.4 ms.)
//!
//! The thread lives as long as the [`LinkRuntime`]; dropping it stops the runtime (after
//! `Links::join`, the binds have already finished).

use tokio::runtime::{Builder, Handle};
use tokio_util::sync::{CancellationToken, DropGuard};

/// A runtime on its own thread for the operator links' tasks.
#[derive(Debug)]
pub struct LinkRuntime {
    handle: Handle,
    _stop: DropGuard,
}

impl LinkRuntime {
    /// Starts the runtime on a thread named `name`.
    pub fn start(name: &str) -> anyhow::Result<Self> {
        let rt = Builder::new_current_thread().enable_all().build()?;
        let handle = rt.handle().clone();
        let stop = CancellationToken::new();
        let until = stop.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || rt.block_on(until.cancelled()))?;
        Ok(LinkRuntime {
            handle,
            _stop: stop.drop_guard(),
        })
    }

    /// Tasks spawned (`tokio::spawn`) while the guard lives run on this runtime.
    pub fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.handle.enter()
    }
}
