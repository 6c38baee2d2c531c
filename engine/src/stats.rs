//! In-process counters and latency histograms for the demo summary and `GET /v1/admin/stats`.
//!
//! Prometheus gets the same events through the `metrics` facade; these exist because a summary
//! needs exact totals and percentiles of this run, which a scrape does not give.

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use sendbox_dispatch::{Channel, FinalState};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

const STATES: usize = 11;

fn state_index(s: FinalState) -> usize {
    match s {
        FinalState::Delivered => 0,
        FinalState::Undeliverable => 1,
        FinalState::Expired => 2,
        FinalState::Rejected => 3,
        FinalState::Answered => 4,
        FinalState::Busy => 5,
        FinalState::NoAnswer => 6,
        FinalState::InvalidNumber => 7,
        FinalState::Cancelled => 8,
        FinalState::Failed => 9,
        FinalState::Refused => 10,
    }
}

const ALL_STATES: [FinalState; STATES] = [
    FinalState::Delivered,
    FinalState::Undeliverable,
    FinalState::Expired,
    FinalState::Rejected,
    FinalState::Answered,
    FinalState::Busy,
    FinalState::NoAnswer,
    FinalState::InvalidNumber,
    FinalState::Cancelled,
    FinalState::Failed,
    FinalState::Refused,
];

/// Counters of one operator and channel.
#[derive(Debug, Default)]
pub struct LinkStats {
    /// Dispatches handed off.
    pub handed_off: AtomicU64,
    /// Tiyn debited.
    pub debited: AtomicU64,
    /// Retries put back.
    pub retried: AtomicU64,
    finals: [AtomicU64; STATES],
    errors: Mutex<BTreeMap<String, u64>>,
}

impl LinkStats {
    /// Count a final state, and its error code if it is a failure.
    pub fn record_final(&self, state: FinalState, error: Option<&str>) {
        self.finals[state_index(state)].fetch_add(1, Ordering::Relaxed);
        if let Some(e) = error {
            *self.errors.lock().entry(e.to_owned()).or_default() += 1;
        }
    }

    /// Final states with non-zero counts.
    pub fn finals(&self) -> Vec<(FinalState, u64)> {
        ALL_STATES
            .iter()
            .map(|&s| (s, self.finals[state_index(s)].load(Ordering::Relaxed)))
            .filter(|&(_, n)| n > 0)
            .collect()
    }

    /// Count of one final state.
    pub fn final_count(&self, s: FinalState) -> u64 {
        self.finals[state_index(s)].load(Ordering::Relaxed)
    }

    /// Failure reasons by error code.
    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors.lock().clone()
    }
}

/// A latency histogram in microseconds, 1 µs to 1 day, 3 significant digits.
#[derive(Debug)]
pub struct Latency(Mutex<Histogram<u64>>);

impl Default for Latency {
    fn default() -> Self {
        // 1 µs .. 1 day at 3 significant figures is a valid configuration.
        Latency(Mutex::new(
            Histogram::new_with_bounds(1, 86_400_000_000, 3).expect("valid histogram bounds"),
        ))
    }
}

impl Latency {
    /// Record one latency.
    pub fn record(&self, d: std::time::Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        self.0.lock().saturating_record(us);
    }

    /// Forget what was recorded so far.
    pub fn reset(&self) {
        self.0.lock().reset();
    }

    /// Percentiles in milliseconds: (count, p50, p90, p99, max).
    pub fn summary(&self) -> LatencySummary {
        LatencySummary::of(&self.0.lock())
    }
}

/// Percentiles of a latency histogram.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Maximum, ms.
    pub max_ms: f64,
}

impl LatencySummary {
    /// Percentiles of a histogram in microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        LatencySummary {
            count: h.len(),
            p50_ms: ms(0.5),
            p90_ms: ms(0.9),
            p99_ms: ms(0.99),
            max_ms: h.max() as f64 / 1000.0,
        }
    }
}

/// Engine-wide counters.
#[derive(Debug)]
pub struct Stats {
    /// Per operator, per channel (index 0 SMS, 1 voice).
    pub links: Vec<[LinkStats; 2]>,
    /// Accepted by the API.
    pub accepted: AtomicU64,
    /// Deferred to the window's next opening (counted each time).
    pub deferred: AtomicU64,
    /// Parked for insufficient funds (counted each time).
    pub funds_paused: AtomicU64,
    /// Refused by policy, by reason.
    pub rejected: Mutex<BTreeMap<String, u64>>,
    /// Acceptance to handoff.
    pub accept_to_handoff: [Latency; 2],
    /// Handoff to final.
    pub handoff_to_final: [Latency; 2],
}

impl Stats {
    /// Counters for `operators` operators.
    pub fn new(operators: usize) -> Self {
        Stats {
            links: (0..operators).map(|_| Default::default()).collect(),
            accepted: AtomicU64::new(0),
            deferred: AtomicU64::new(0),
            funds_paused: AtomicU64::new(0),
            rejected: Mutex::new(BTreeMap::new()),
            accept_to_handoff: Default::default(),
            handoff_to_final: Default::default(),
        }
    }

    /// The counters of one operator and channel.
    pub fn link(&self, operator: u16, channel: Channel) -> Option<&LinkStats> {
        self.links
            .get(usize::from(operator))
            .map(|l| &l[channel_index(channel)])
    }

    /// Dispatches that reached a final state: every link's finals plus policy refusals.
    pub fn finals_total(&self) -> u64 {
        let links: u64 = self
            .links
            .iter()
            .flat_map(|l| l.iter())
            .map(|l| l.finals().iter().map(|(_, n)| n).sum::<u64>())
            .sum();
        links + self.rejected.lock().values().sum::<u64>()
    }

    /// Count a policy refusal.
    pub fn record_rejected(&self, reason: &str) {
        *self.rejected.lock().entry(reason.to_owned()).or_default() += 1;
    }
}

/// 0 for SMS, 1 for voice.
pub fn channel_index(c: Channel) -> usize {
    match c {
        Channel::Sms => 0,
        Channel::Voice => 1,
    }
}
