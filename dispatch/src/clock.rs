//! Wall-clock time, injected so the calling window can be tested and the demo can start
//! inside the window whatever the hour.
//!
//! Monotonic time (timeouts, rate limits) uses `tokio::time::Instant`; this clock is only for
//! "what time is it in Almaty", which decides whether a dispatch may leave.

use jiff::{SignedDuration, Timestamp};
use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of wall-clock time.
pub trait WallClock: Send + Sync + Debug + 'static {
    /// Now, as a UTC timestamp.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The system clock shifted by a fixed offset: the demo runs "as if" it were inside the
/// window while time still flows at its normal pace.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    offset: SignedDuration,
}

impl OffsetClock {
    /// A clock that reads `start` now and advances with the system clock.
    pub fn starting_at(start: Timestamp) -> Self {
        OffsetClock {
            offset: start.duration_since(Timestamp::now()),
        }
    }
}

impl WallClock for OffsetClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
            .checked_add(self.offset)
            .unwrap_or(Timestamp::MAX)
    }
}

/// A clock that only moves when told to: for tests.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicI64,
}

impl ManualClock {
    /// A clock reading `at`.
    pub fn new(at: Timestamp) -> Self {
        ManualClock {
            nanos: AtomicI64::new(as_nanos(at)),
        }
    }

    /// Set the time.
    pub fn set(&self, at: Timestamp) {
        self.nanos.store(as_nanos(at), Ordering::SeqCst);
    }

    /// Move the time forward (or back, with a negative duration).
    pub fn advance(&self, by: SignedDuration) {
        let nanos = i64::try_from(by.as_nanos()).unwrap_or(i64::MAX);
        self.nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl WallClock for ManualClock {
    fn now(&self) -> Timestamp {
        // The stored value always came from a valid Timestamp (or was advanced by a caller in
        // range); clamp rather than panic if a test advanced it past the representable range.
        Timestamp::from_nanosecond(self.nanos.load(Ordering::SeqCst) as i128)
            .unwrap_or(Timestamp::MAX)
    }
}

fn as_nanos(at: Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let t0: Timestamp = "2026-11-25T05:00:00Z".parse().unwrap();
        let c = ManualClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(SignedDuration::from_secs(90));
        assert_eq!(
            c.now(),
            "2026-11-25T05:01:30Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn offset_clock_starts_where_asked() {
        let start: Timestamp = "2030-01-01T05:00:00Z".parse().unwrap();
        let c = OffsetClock::starting_at(start);
        let d = c.now().duration_since(start);
        assert!(d.as_secs() < 5, "offset clock drifted {d:?}");
    }
}
