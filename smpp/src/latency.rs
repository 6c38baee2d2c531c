//! Exact submit_sm → submit_sm_resp latencies of this run (hdrhistogram, microseconds), for
//! the engine's statistics: the Prometheus histogram only says which bucket a percentile is in.
//!
//! Each bind connection records into its own histogram (its lock is never contended in the
//! hot path); a reader merges them.
//!
//! ```
//! use sendbox_smpp::latency::SubmitLatency;
//! use std::time::Duration;
//! let l = SubmitLatency::new(2);
//! l.record(0, Duration::from_micros(300));
//! l.record(1, Duration::from_micros(900));
//! let h = l.merged();
//! assert_eq!(h.len(), 2);
//! assert!(h.value_at_quantile(1.0) >= 899);
//! ```

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use std::time::Duration;

/// Highest recordable latency: one hour, in microseconds (a response waits at most the
/// response timeout; anything longer is clamped).
const MAX_US: u64 = 3_600_000_000;

fn empty() -> Histogram<u64> {
    // 1 µs .. 1 h at 3 significant figures is a valid configuration.
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

/// Submit-to-response latencies of one operator's bind connections.
#[derive(Debug)]
pub struct SubmitLatency {
    per_bind: Vec<Mutex<Histogram<u64>>>,
}

impl SubmitLatency {
    /// Histograms for `binds` bind connections.
    pub fn new(binds: usize) -> Self {
        SubmitLatency {
            per_bind: (0..binds.max(1)).map(|_| Mutex::new(empty())).collect(),
        }
    }

    /// Records one response of bind connection `bind` (out of range: the last one).
    pub fn record(&self, bind: usize, waited: Duration) {
        let us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX).max(1);
        let i = bind.min(self.per_bind.len() - 1);
        self.per_bind[i].lock().saturating_record(us);
    }

    /// Forget everything recorded so far (a load test starts measuring after its warm-up).
    pub fn reset(&self) {
        for h in &self.per_bind {
            h.lock().reset();
        }
    }

    /// Every bind connection's latencies in one histogram (microseconds).
    pub fn merged(&self) -> Histogram<u64> {
        let mut all = empty();
        for h in &self.per_bind {
            // Same bounds on both sides: adding cannot fail.
            let _ = all.add(&*h.lock());
        }
        all
    }
}
