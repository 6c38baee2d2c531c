//! Engine-side RTP timing, per packet: how far each stream's send interval strayed from the
//! 20 ms period, and how late each packet left against its slot.
//!
//! Pacer threads count into a local [`TimingBatch`] (no shared writes per packet) and flush
//! it into the process-wide [`SEND_TIMING`] now and then; the quantiles are published as the
//! gauge [`crate::metrics::RTP_SEND_TIMING_SECONDS`] (labels `measure`, `quantile`), which load
//! tests read next to what the receivers measured.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Bucket width.
const STEP_US: u64 = 25;
/// Buckets of [`STEP_US`] up to 50 ms; the last one holds everything larger.
const BUCKETS: usize = 2001;

/// Which figure a sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// `|interval between a stream's consecutive packets - 20 ms|`.
    IntervalDeviation,
    /// Time between a packet's slot deadline and its send.
    Lag,
}

impl Measure {
    fn index(self) -> usize {
        self as usize
    }

    /// The `measure` label.
    pub fn label(self) -> &'static str {
        match self {
            Measure::IntervalDeviation => "interval_deviation",
            Measure::Lag => "lag",
        }
    }
}

/// One histogram of 25 µs buckets.
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    max_us: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BUCKETS],
            max_us: AtomicU64::new(0),
        }
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// An upper bound (to 25 µs) of the `q` quantile; `q >= 1` is the exact maximum.
    pub fn quantile(&self, q: f64) -> Duration {
        let max = Duration::from_micros(self.max_us.load(Ordering::Relaxed));
        if q >= 1.0 {
            return max;
        }
        let total = self.count() as f64;
        let mut seen = 0u64;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen > 0 && seen as f64 >= total * q {
                if i == BUCKETS - 1 {
                    return max;
                }
                return Duration::from_micros((i as u64 + 1) * STEP_US).min(max);
            }
        }
        Duration::ZERO
    }
}

/// The process's engine-side RTP timing.
#[derive(Debug)]
pub struct SendTiming {
    hists: [Histogram; 2],
}

/// Every pacer thread's samples.
pub static SEND_TIMING: SendTiming = SendTiming {
    hists: [Histogram::new(), Histogram::new()],
};

impl SendTiming {
    /// The histogram of one measure.
    pub fn get(&self, m: Measure) -> &Histogram {
        &self.hists[m.index()]
    }

    /// Publish p50, p99, p99.9 and the maximum of both measures as gauges.
    pub fn publish(&self) {
        for m in [Measure::IntervalDeviation, Measure::Lag] {
            let h = self.get(m);
            for (label, q) in [("0.5", 0.5), ("0.99", 0.99), ("0.999", 0.999), ("1", 1.0)] {
                metrics::gauge!(crate::metrics::RTP_SEND_TIMING_SECONDS,
                    "measure" => m.label(), "quantile" => label)
                .set(h.quantile(q).as_secs_f64());
            }
        }
    }
}

/// A pacer thread's unflushed samples.
#[derive(Debug)]
pub struct TimingBatch {
    counts: [Vec<u64>; 2],
    max_us: [u64; 2],
    pending: u64,
}

impl Default for TimingBatch {
    fn default() -> Self {
        TimingBatch {
            counts: [vec![0; BUCKETS], vec![0; BUCKETS]],
            max_us: [0; 2],
            pending: 0,
        }
    }
}

impl TimingBatch {
    /// Count one sample.
    pub fn record(&mut self, m: Measure, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = usize::try_from(us / STEP_US)
            .unwrap_or(BUCKETS)
            .min(BUCKETS - 1);
        self.counts[m.index()][i] += 1;
        self.max_us[m.index()] = self.max_us[m.index()].max(us);
        self.pending += 1;
    }

    /// Samples not yet flushed.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Add everything into `to` and start afresh.
    pub fn flush(&mut self, to: &SendTiming) {
        for (k, counts) in self.counts.iter_mut().enumerate() {
            let h = &to.hists[k];
            for (i, c) in counts.iter_mut().enumerate().filter(|(_, c)| **c > 0) {
                h.buckets[i].fetch_add(*c, Ordering::Relaxed);
                *c = 0;
            }
            h.max_us.fetch_max(self.max_us[k], Ordering::Relaxed);
            self.max_us[k] = 0;
        }
        self.pending = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_bucket_upper_bounds_capped_by_the_maximum() {
        static T: SendTiming = SendTiming {
            hists: [Histogram::new(), Histogram::new()],
        };
        let mut b = TimingBatch::default();
        for _ in 0..990 {
            b.record(Measure::IntervalDeviation, Duration::from_micros(10));
        }
        for _ in 0..10 {
            b.record(Measure::IntervalDeviation, Duration::from_micros(3_010));
        }
        b.record(Measure::Lag, Duration::from_secs(9));
        assert_eq!(b.pending(), 1001);
        b.flush(&T);
        assert_eq!(b.pending(), 0);
        let h = T.get(Measure::IntervalDeviation);
        assert_eq!(h.count(), 1000);
        assert_eq!(h.quantile(0.5), Duration::from_micros(25));
        assert_eq!(h.quantile(0.99), Duration::from_micros(25));
        assert_eq!(h.quantile(0.995), Duration::from_micros(3_010));
        assert_eq!(h.quantile(1.0), Duration::from_micros(3_010));
        // Beyond the last bucket: still counted, and the maximum is exact.
        assert_eq!(T.get(Measure::Lag).quantile(1.0), Duration::from_secs(9));
        assert_eq!(T.get(Measure::Lag).quantile(0.5), Duration::from_secs(9));
    }
}
