//! Matching receipts to dispatches: message id → (dispatch, part), with an orphan buffer for
//! receipts that overtake their submit_sm_resp, and expiry for receipts that never come.
//!
//! Sans-IO: times are arguments. One correlator serves all binds of an operator (a receipt may
//! come back on any bind), behind the link's lock.
//!
//! ```
//! # use sendbox_smpp::{correlate::{Correlator, Match}, dlr::{MsgKey, Stat}, config::IdBase};
//! # use sendbox_dispatch::{ids::*, model::*};
//! # use std::{sync::Arc, time::Duration};
//! # let ready = Ready { id: DispatchId(1), account: AccountId(0), campaign: None, operator: OperatorId(0),
//! #   msisdn: 77011234567, class: TrafficClass::Service, content: Arc::new(Content::Sms(SmsContent {
//! #   sender: "SHOP".into(), text: "hi".into(), segments: 1 })), attempt: 1, retries: 0, reserved: 0,
//! #   accepted_at: jiff::Timestamp::UNIX_EPOCH };
//! let now = tokio::time::Instant::now();
//! let mut c = Correlator::new(Duration::from_secs(3600), Duration::from_secs(60));
//! let key = || MsgKey::new(b"abc", IdBase::Text);
//! assert!(c.register(now, ready, vec![key()]).is_none());
//! assert!(matches!(c.on_receipt(now, key(), Stat::Delivered, b"000"), Match::Finished(..)));
//! ```

use crate::dlr::{MsgKey, Stat};
use foldhash::{HashMap, HashMapExt};
use sendbox_dispatch::{FinalState, Ready};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// A dispatch whose receipts are all in: the dispatch, its final state, and the error text.
pub type Final = (Ready, FinalState, Option<String>);

/// What a receipt did.
#[derive(Debug)]
pub enum Match {
    /// Every part is final: report this outcome.
    Finished(Ready, FinalState, Option<String>),
    /// A part became final; other parts are still awaited.
    PartDone,
    /// An intermediate state (ENROUTE, ACCEPTD): nothing changes.
    Intermediate,
    /// No dispatch has this id (yet): the receipt is kept for a while.
    Orphaned,
}

#[derive(Debug)]
struct Awaiting {
    ready: Ready,
    keys: Vec<MsgKey>,
    remaining: usize,
    /// The worst part outcome so far (Delivered is the best).
    worst: Option<(FinalState, String)>,
    deadline: Instant,
}

#[derive(Debug)]
struct Orphan {
    stat: Stat,
    err: String,
    at: Instant,
}

/// Stale deadlines tolerated before [`Correlator::compact_expiry`] sweeps them.
const EXPIRY_SLACK: usize = 4096;

/// The receipt matcher of one operator.
#[derive(Debug)]
pub struct Correlator {
    by_key: HashMap<MsgKey, u64>,
    awaiting: HashMap<u64, Awaiting>,
    /// Deadlines in registration order. An entry outlives its dispatch when the receipt comes
    /// first (the usual case); [`Correlator::compact_expiry`] drops those.
    expiry: VecDeque<(Instant, u64)>,
    orphans: HashMap<MsgKey, Orphan>,
    orphan_order: VecDeque<(Instant, MsgKey)>,
    dlr_timeout: Duration,
    orphan_ttl: Duration,
}

impl Correlator {
    /// A matcher that waits `dlr_timeout` for receipts and keeps orphans `orphan_ttl`.
    pub fn new(dlr_timeout: Duration, orphan_ttl: Duration) -> Self {
        Correlator {
            by_key: HashMap::new(),
            awaiting: HashMap::new(),
            expiry: VecDeque::new(),
            orphans: HashMap::new(),
            orphan_order: VecDeque::new(),
            dlr_timeout,
            orphan_ttl,
        }
    }

    /// Dispatches awaiting receipts.
    pub fn len(&self) -> usize {
        self.awaiting.len()
    }

    /// True when no dispatch awaits a receipt.
    pub fn is_empty(&self) -> bool {
        self.awaiting.is_empty()
    }

    /// Receipts waiting for their dispatch.
    pub fn orphans(&self) -> usize {
        self.orphans.len()
    }

    /// Starts waiting for the receipts of `ready`, one per message id (one per part). Receipts
    /// that arrived early are applied now; if they complete it, the outcome is returned.
    pub fn register(&mut self, now: Instant, ready: Ready, keys: Vec<MsgKey>) -> Option<Final> {
        let id = ready.id.0;
        let deadline = now + self.dlr_timeout;
        for k in &keys {
            self.by_key.insert(k.clone(), id);
        }
        let remaining = keys.len();
        self.awaiting.insert(
            id,
            Awaiting {
                ready,
                keys,
                remaining,
                worst: None,
                deadline,
            },
        );
        self.compact_expiry();
        self.expiry.push_back((deadline, id));
        if self.orphans.is_empty() {
            return None;
        }
        let early: Vec<(MsgKey, Orphan)> = self
            .awaiting
            .get(&id)
            .map(|a| {
                a.keys
                    .iter()
                    .filter_map(|k| self.orphans.remove_entry(k))
                    .collect()
            })
            .unwrap_or_default();
        let mut done = None;
        for (k, o) in early {
            if let Match::Finished(r, s, e) = self.on_receipt(now, k, o.stat, o.err.as_bytes()) {
                done = Some((r, s, e));
            }
        }
        done
    }

    /// Applies a receipt for message id `key`.
    pub fn on_receipt(&mut self, now: Instant, key: MsgKey, stat: Stat, err: &[u8]) -> Match {
        let Some(state) = stat.final_state() else {
            return Match::Intermediate;
        };
        let Some(id) = self.by_key.remove(&key) else {
            self.expire_orphans(now);
            let err = String::from_utf8_lossy(err).into_owned();
            self.orphan_order.push_back((now, key.clone()));
            self.orphans.insert(key, Orphan { stat, err, at: now });
            return Match::Orphaned;
        };
        let Some(a) = self.awaiting.get_mut(&id) else {
            return Match::Orphaned;
        };
        a.remaining = a.remaining.saturating_sub(1);
        if state != FinalState::Delivered && rank(state) > a.worst.as_ref().map_or(0, |w| rank(w.0))
        {
            let err = String::from_utf8_lossy(err);
            a.worst = Some((state, format!("dlr:{}/err={}", stat.word(), err)));
        }
        if a.remaining > 0 {
            return Match::PartDone;
        }
        // `a` exists (just borrowed above), so the removal finds it.
        let Some(a) = self.awaiting.remove(&id) else {
            return Match::Orphaned;
        };
        for k in &a.keys {
            self.by_key.remove(k);
        }
        match a.worst {
            None => Match::Finished(a.ready, FinalState::Delivered, None),
            Some((s, e)) => Match::Finished(a.ready, s, Some(e)),
        }
    }

    /// Removes the dispatches whose receipts did not come in time; they are `expired`.
    pub fn expire(&mut self, now: Instant) -> Vec<Final> {
        self.expire_orphans(now);
        let mut out = Vec::new();
        while let Some(&(deadline, id)) = self.expiry.front() {
            if deadline > now {
                break;
            }
            self.expiry.pop_front();
            if self
                .awaiting
                .get(&id)
                .is_some_and(|a| a.deadline == deadline)
                && let Some(a) = self.awaiting.remove(&id)
            {
                for k in &a.keys {
                    self.by_key.remove(k);
                }
                out.push((
                    a.ready,
                    FinalState::Expired,
                    Some("dlr:timeout".to_string()),
                ));
            }
        }
        out
    }

    /// Takes every dispatch still awaiting receipts (at shutdown, for the engine to persist).
    pub fn drain(&mut self) -> Vec<Ready> {
        self.by_key.clear();
        self.expiry.clear();
        self.awaiting.drain().map(|(_, a)| a.ready).collect()
    }

    /// Drops the deadlines of dispatches already finished once they outnumber the ones still
    /// awaiting receipts. Otherwise every dispatch would stay in `expiry` for the whole
    /// `dlr_timeout` (48 h by default) after its receipt: about 24 bytes each, gigabytes at
    /// a day's traffic. Amortised O(1): a compaction of n entries follows at least n/2
    /// registrations.
    fn compact_expiry(&mut self) {
        if self.expiry.len() < 2 * self.awaiting.len() + EXPIRY_SLACK {
            return;
        }
        let awaiting = &self.awaiting;
        self.expiry
            .retain(|(deadline, id)| awaiting.get(id).is_some_and(|a| a.deadline == *deadline));
    }

    fn expire_orphans(&mut self, now: Instant) {
        while let Some((at, _)) = self.orphan_order.front() {
            if *at + self.orphan_ttl > now {
                break;
            }
            if let Some((at, key)) = self.orphan_order.pop_front()
                && self.orphans.get(&key).is_some_and(|o| o.at == at)
            {
                self.orphans.remove(&key);
            }
        }
    }
}

/// How bad a part outcome is, for combining the parts of a long message.
fn rank(s: FinalState) -> u8 {
    match s {
        FinalState::Delivered => 0,
        FinalState::Expired => 1,
        FinalState::Undeliverable => 2,
        _ => 3,
    }
}

#[cfg(test)]
#[path = "correlate_tests.rs"]
mod tests;
