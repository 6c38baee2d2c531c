//! Per-pacer lateness of slots against their deadlines (the stress test reads it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Lateness of the pacer's slots against their deadlines, in power-of-two microsecond
/// buckets (bucket `i` holds lags in `[2^(i-1), 2^i)` µs).
#[derive(Debug, Default)]
pub struct LagStats {
    buckets: [AtomicU64; 24],
    packets: AtomicU64,
}

impl LagStats {
    pub(crate) fn record(&self, lag: Duration, packets: u64) {
        let us = lag.as_micros().min(u128::from(u32::MAX)) as u32;
        let i = (32 - us.leading_zeros()).min(23) as usize;
        self.buckets[i].fetch_add(packets, Ordering::Relaxed);
        self.packets.fetch_add(packets, Ordering::Relaxed);
    }

    /// Start counting afresh (load tests skip their ramp-up this way).
    pub fn reset(&self) {
        for b in &self.buckets {
            b.store(0, Ordering::Relaxed);
        }
        self.packets.store(0, Ordering::Relaxed);
    }

    /// RTP packets sent so far.
    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    /// An upper bound of the `q` quantile (0..1) of per-packet lateness.
    pub fn quantile_upper(&self, q: f64) -> Duration {
        let total = self.packets() as f64;
        let mut seen = 0u64;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen as f64 >= total * q {
                return Duration::from_micros(if i == 0 { 0 } else { 1 << i });
            }
        }
        Duration::MAX
    }
}
