//! Dispatch and campaign id generation.
//!
//! Ids are `unix_microseconds_at_start * 16`, then incremented: unique across restarts as long
//! as the engine hands out fewer than 16 million ids per second of uptime, and sortable by
//! acceptance order, so the store's primary key stays append-only.

use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonic id source.
#[derive(Debug)]
pub struct IdGen {
    next: AtomicU64,
}

impl IdGen {
    /// A generator starting above both `now` and `floor` (the largest id already stored).
    pub fn new(now: jiff::Timestamp, floor: u64) -> Self {
        let micros = u64::try_from(now.as_microsecond()).unwrap_or(0);
        IdGen {
            next: AtomicU64::new((micros << 4).max(floor + 1)),
        }
    }

    /// The next id.
    pub fn next(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Reserve `n` consecutive ids, returning the first.
    pub fn next_block(&self, n: u64) -> u64 {
        self.next.fetch_add(n, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_respect_the_floor() {
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let g = IdGen::new(now, 0);
        let a = g.next();
        let b = g.next();
        assert!(b > a);
        let g2 = IdGen::new(now, u64::MAX / 2);
        assert_eq!(g2.next(), u64::MAX / 2 + 1);
        let first = g.next_block(10);
        assert_eq!(g.next(), first + 10);
    }
}
