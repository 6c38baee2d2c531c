//! Exponential backoff with jitter, for reconnects and temporary-error retries.
//!
//! The delay doubles from `min` up to `max`; each delay is then drawn in `[d/2, d]` ("equal
//! jitter") so binds that dropped together do not reconnect together. The random draw is an
//! argument, so the schedule is testable.
//!
//! ```
//! use sendbox_smpp::backoff::Backoff;
//! use std::time::Duration;
//! let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
//! assert_eq!(b.next_delay(1.0), Duration::from_secs(1));
//! assert_eq!(b.next_delay(1.0), Duration::from_secs(2));
//! ```

use std::time::Duration;

/// A reconnect schedule.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// A schedule from `min` to `max`.
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// The next delay; `unit` is a random draw in `[0, 1]` (1 gives the full delay).
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let d = exponential(self.min, self.max, self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        jitter(d, unit)
    }

    /// Jumps to the longest delay (after a bind refused for bad credentials: no tight loop).
    pub fn saturate(&mut self) {
        self.attempt = 32;
    }

    /// Back to `min` (after a successful bind).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// `base * 2^attempt`, capped at `max`.
pub fn exponential(base: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(max)
}

/// A delay in `[d/2, d]` chosen by `unit` in `[0, 1]`.
pub fn jitter(d: Duration, unit: f64) -> Duration {
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        1.0
    };
    d.mul_f64(0.5 + 0.5 * unit)
}

/// A random draw for [`Backoff::next_delay`] and [`jitter`].
pub fn random_unit() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn doubles_up_to_the_cap_then_stays() {
        let mut b = Backoff::new(S, 10 * S);
        let d: Vec<_> = (0..6).map(|_| b.next_delay(1.0)).collect();
        assert_eq!(d, vec![S, 2 * S, 4 * S, 8 * S, 10 * S, 10 * S]);
        b.reset();
        assert_eq!(b.next_delay(1.0), S);
    }

    #[test]
    fn jitter_stays_within_half_to_full() {
        assert_eq!(jitter(10 * S, 0.0), 5 * S);
        assert_eq!(jitter(10 * S, 1.0), 10 * S);
        assert_eq!(jitter(10 * S, f64::NAN), 10 * S);
        for _ in 0..100 {
            let d = jitter(10 * S, random_unit());
            assert!(d >= 5 * S && d <= 10 * S);
        }
    }

    #[test]
    fn saturated_schedule_starts_at_the_maximum() {
        let mut b = Backoff::new(S, 60 * S);
        b.saturate();
        assert_eq!(b.next_delay(1.0), 60 * S);
    }
}
