//! Rate limiting: GCRA (the generic cell rate algorithm, a token bucket without a refill
//! task) shared by every bind or trunk of one operator, with AIMD when the operator throttles.
//!
//! We write our own because the limiter must be lock-free (one atomic per operator, shared by
//! many binds), take the time as an argument (sans-IO and testable), and change its rate at
//! run time (halve on ESME_RTHROTTLED, creep back up on success).
//!
//! Times are nanoseconds on any monotonic scale the caller picks (the engine uses
//! nanoseconds since its start).

use std::sync::atomic::{AtomicU64, Ordering};

/// A lock-free GCRA limiter.
#[derive(Debug)]
pub struct Gcra {
    /// Theoretical arrival time of the next cell, in ns.
    tat: AtomicU64,
    /// Current emission interval (1/rate) in ns.
    interval: AtomicU64,
    /// Emission interval at the configured maximum rate.
    min_interval: u64,
    /// Emission interval at the floor rate (AIMD never goes slower than this).
    max_interval: u64,
    /// Burst size in cells.
    burst: u64,
}

impl Gcra {
    /// A limiter allowing `rate` cells per second on average, with bursts of `burst` cells.
    /// A non-positive or non-finite `rate` is treated as 1 cell per hour.
    pub fn new(rate: f64, burst: u32) -> Self {
        let interval = interval_for(rate);
        Gcra {
            tat: AtomicU64::new(0),
            interval: AtomicU64::new(interval),
            min_interval: interval,
            // AIMD floor: a twentieth of the configured rate, at least 1 per second.
            max_interval: interval.saturating_mul(20).min(1_000_000_000).max(interval),
            burst: u64::from(burst.max(1)),
        }
    }

    /// Take one cell at `now_ns`. `Err(wait_ns)` says how long until one is available.
    pub fn try_acquire(&self, now_ns: u64) -> Result<(), u64> {
        let interval = self.interval.load(Ordering::Relaxed);
        let tolerance = interval.saturating_mul(self.burst - 1);
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let base = tat.max(now_ns);
            if base - now_ns > tolerance {
                return Err(base - now_ns - tolerance);
            }
            let next = base + interval;
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => tat = actual,
            }
        }
    }

    /// The current rate in cells per second.
    pub fn rate(&self) -> f64 {
        1e9 / self.interval.load(Ordering::Relaxed) as f64
    }

    /// The configured (maximum) rate in cells per second.
    pub fn max_rate(&self) -> f64 {
        1e9 / self.min_interval as f64
    }

    /// Multiplicative decrease: the operator throttled us. Halves the rate, down to the floor,
    /// and pushes the next cell out by `pause_ns`.
    pub fn on_throttled(&self, now_ns: u64, pause_ns: u64) {
        let _ = self
            .interval
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |i| {
                Some(i.saturating_mul(2).min(self.max_interval))
            });
        let _ = self.tat.fetch_max(now_ns + pause_ns, Ordering::AcqRel);
    }

    /// Additive increase: a success. Moves the rate up by 1 % of the maximum rate, up to it.
    pub fn on_success(&self) {
        let cur = self.interval.load(Ordering::Relaxed);
        if cur <= self.min_interval {
            return;
        }
        let rate = 1e9 / cur as f64 + self.max_rate() / 100.0;
        let next = interval_for(rate).max(self.min_interval);
        let _ = self
            .interval
            .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Relaxed);
    }
}

fn interval_for(rate: f64) -> u64 {
    if rate.is_finite() && rate > 0.0 {
        ((1e9 / rate) as u64).max(1)
    } else {
        3_600_000_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn allows_burst_then_spaces_cells_at_the_rate() {
        let g = Gcra::new(10.0, 3);
        let now = 5 * SEC;
        assert!(g.try_acquire(now).is_ok());
        assert!(g.try_acquire(now).is_ok());
        assert!(g.try_acquire(now).is_ok());
        let wait = g.try_acquire(now).unwrap_err();
        assert_eq!(wait, SEC / 10);
        assert!(g.try_acquire(now + SEC / 10).is_ok());
    }

    #[test]
    fn long_run_rate_matches_configuration() {
        let g = Gcra::new(1000.0, 1);
        let mut now = 0;
        let mut sent = 0u64;
        while now < 10 * SEC {
            match g.try_acquire(now) {
                Ok(()) => sent += 1,
                Err(w) => now += w,
            }
        }
        assert!(
            (9_999..=10_001).contains(&sent),
            "sent {sent} in 10 s at 1000/s"
        );
    }

    #[test]
    fn throttling_halves_and_success_recovers() {
        let g = Gcra::new(100.0, 1);
        g.on_throttled(0, SEC);
        assert!((g.rate() - 50.0).abs() < 0.01);
        assert!(g.try_acquire(SEC / 2).is_err(), "paused after throttling");
        g.on_throttled(0, 0);
        g.on_throttled(0, 0);
        g.on_throttled(0, 0);
        g.on_throttled(0, 0);
        g.on_throttled(0, 0);
        assert!(
            (g.rate() - 5.0).abs() < 0.01,
            "floor is max/20, got {}",
            g.rate()
        );
        for _ in 0..1000 {
            g.on_success();
        }
        assert!((g.rate() - 100.0).abs() < 0.01, "recovered to {}", g.rate());
    }

    #[test]
    fn shared_between_threads_never_exceeds_the_budget() {
        use std::sync::Arc;
        let g = Arc::new(Gcra::new(1000.0, 100));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || {
                    (0..10_000).filter(|_| g.try_acquire(SEC).is_ok()).count()
                })
            })
            .collect();
        let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(total, 100, "exactly the burst at one instant");
    }
}
