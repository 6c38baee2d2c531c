//! The dispatches one bind is carrying: which parts are unsent, sent, accepted or failed, and
//! what each submit_sm response means for the dispatch (retry, pause, fail, hand off).
//!
//! A token names one part of one dispatch: `generation << 40 | slot << 8 | part`, so a stale
//! token (a resend scheduled for a dispatch that has since ended) never touches a new one.

use crate::backoff::{exponential, jitter, random_unit};
use crate::link::Shared;
use crate::status::{StatusClass, classify, error_code};
use crate::text::Prepared;
use bytes::Bytes;
use sendbox_dispatch::{FinalState, Handoff, Outcome, Ready, RetryReason};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
enum PartSt {
    Unsent,
    Sent,
    Accepted(Bytes),
    Failed,
}

/// One dispatch on this bind.
#[derive(Debug)]
pub(crate) struct Flight {
    pub ready: Ready,
    pub prep: Prepared,
    pub reference: u16,
    parts: Vec<PartSt>,
    generation: u32,
    fail: Option<(FinalState, u32)>,
}

/// A part to send: its dispatch and index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartRef {
    pub token: u64,
    pub slot: usize,
    pub part: usize,
}

/// The dispatches of one bind.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    slots: Vec<Option<Flight>>,
    free: Vec<usize>,
    sendq: VecDeque<u64>,
    delayed: BinaryHeap<Reverse<(Instant, u64)>>,
    generation: u32,
    next_ref: u16,
}

fn split(token: u64) -> (u32, usize, usize) {
    (
        (token >> 40) as u32,
        ((token >> 8) & 0xFFFF_FFFF) as usize,
        (token & 0xFF) as usize,
    )
}

impl Flights {
    /// True when parts wait to be sent now.
    pub fn has_sendable(&self) -> bool {
        !self.sendq.is_empty()
    }

    /// When the next delayed resend is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.delayed.peek().map(|Reverse((t, _))| *t)
    }

    /// Takes a dispatch: its parts queue up to be sent.
    pub fn admit(&mut self, ready: Ready, prep: Prepared) {
        self.generation = (self.generation + 1) & 0xFF_FFFF;
        self.next_ref = self.next_ref.wrapping_add(1);
        let n = prep.parts.len().min(255);
        let flight = Flight {
            ready,
            prep,
            reference: self.next_ref,
            parts: vec![PartSt::Unsent; n],
            generation: self.generation,
            fail: None,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s] = Some(flight);
                s
            }
            None => {
                self.slots.push(Some(flight));
                self.slots.len() - 1
            }
        };
        for part in 0..n {
            self.sendq
                .push_back(u64::from(self.generation) << 40 | (slot as u64) << 8 | part as u64);
        }
    }

    /// The next part to send now, if any (due resends first).
    pub fn next_part(&mut self, now: Instant) -> Option<PartRef> {
        while let Some(Reverse((t, token))) = self.delayed.peek().copied() {
            if t > now {
                break;
            }
            self.delayed.pop();
            self.sendq.push_front(token);
        }
        while let Some(token) = self.sendq.pop_front() {
            let (generation, slot, part) = split(token);
            if let Some(Some(f)) = self.slots.get(slot)
                && f.generation == generation
                && f.parts.get(part) == Some(&PartSt::Unsent)
            {
                return Some(PartRef { token, slot, part });
            }
        }
        None
    }

    /// Puts a part taken by [`Flights::next_part`] back at the front (the limiter said wait).
    pub fn unpop(&mut self, p: PartRef) {
        self.sendq.push_front(p.token);
    }

    /// The dispatch of a part.
    pub fn flight(&self, slot: usize) -> Option<&Flight> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// The part went out.
    pub fn mark_sent(&mut self, p: PartRef) {
        if let Some(Some(f)) = self.slots.get_mut(p.slot) {
            f.parts[p.part] = PartSt::Sent;
        }
    }

    fn get(&mut self, token: u64) -> Option<(&mut Flight, usize, usize)> {
        let (generation, slot, part) = split(token);
        let f = self.slots.get_mut(slot)?.as_mut()?;
        (f.generation == generation && f.parts.get(part) == Some(&PartSt::Sent))
            .then_some((f, slot, part))
    }

    /// A submit_sm response (or generic_nack) for `token`.
    pub fn on_response(&mut self, sh: &Shared, now: Instant, token: u64, status: u32, id: Bytes) {
        let Some((f, slot, part)) = self.get(token) else {
            return;
        };
        let class = classify(status);
        sh.counters.submit(class);
        match class {
            StatusClass::Ok => {
                f.parts[part] = PartSt::Accepted(id);
                sh.op_limiter.on_success();
            }
            StatusClass::Throttled => {
                f.parts[part] = PartSt::Unsent;
                let pause = sh.cfg.throttle_pause;
                sh.op_limiter
                    .on_throttled(crate::link::mono_ns(), pause.as_nanos() as u64);
                self.delayed.push(Reverse((now + pause, token)));
            }
            StatusClass::Temporary | StatusClass::RetryOnce => {
                let limit = if class == StatusClass::RetryOnce {
                    1
                } else {
                    sh.cfg.max_temp_retries
                };
                self.temporary(sh, now, token, status, limit);
            }
            StatusClass::Permanent => self.fail(slot, part, FinalState::Rejected, status),
        }
        self.check_done(sh, now, slot);
    }

    /// No response in time: a temporary error.
    pub fn on_timeout(&mut self, sh: &Shared, now: Instant, token: u64) {
        let Some((_, slot, _)) = self.get(token) else {
            return;
        };
        sh.counters.timeout();
        self.temporary(sh, now, token, 0x0000_0008, sh.cfg.max_temp_retries);
        self.check_done(sh, now, slot);
    }

    /// The session closed with this part unanswered: send it again later (not a retry).
    pub fn on_lost(&mut self, token: u64) {
        if let Some((f, _, part)) = self.get(token) {
            f.parts[part] = PartSt::Unsent;
            self.sendq.push_back(token);
        }
    }

    fn temporary(&mut self, sh: &Shared, now: Instant, token: u64, status: u32, limit: u16) {
        let Some((f, slot, part)) = self.get(token) else {
            return;
        };
        if f.ready.retries >= limit {
            return self.fail(slot, part, FinalState::Failed, status);
        }
        f.ready.retries += 1;
        f.parts[part] = PartSt::Unsent;
        let d = exponential(
            sh.cfg.temp_retry_base,
            sh.cfg.reconnect_max,
            u32::from(f.ready.retries - 1),
        );
        self.delayed
            .push(Reverse((now + jitter(d, random_unit()), token)));
    }

    /// Part `part` failed for good: the dispatch will fail, and its unsent parts are not sent.
    /// Parts awaiting a response are left to their response.
    fn fail(&mut self, slot: usize, part: usize, state: FinalState, status: u32) {
        if let Some(Some(f)) = self.slots.get_mut(slot) {
            f.fail.get_or_insert((state, status));
            f.parts[part] = PartSt::Failed;
            for p in f.parts.iter_mut().filter(|p| **p == PartSt::Unsent) {
                *p = PartSt::Failed;
            }
        }
    }

    /// Ends the dispatch in `slot` if no part is unsent or awaiting a response.
    fn check_done(&mut self, sh: &Shared, now: Instant, slot: usize) {
        let Some(Some(f)) = self.slots.get(slot) else {
            return;
        };
        if f.parts
            .iter()
            .any(|p| matches!(p, PartSt::Unsent | PartSt::Sent))
        {
            return;
        }
        let Some(f) = self.take(slot) else { return };
        let at = sh.clock.now();
        if let Some((state, status)) = f.fail {
            sh.events.finished(
                f.ready,
                Outcome::simple(state, Some(error_code(status)), at),
            );
            return;
        }
        let ids: Vec<Bytes> = f
            .parts
            .into_iter()
            .filter_map(|p| {
                if let PartSt::Accepted(id) = p {
                    Some(id)
                } else {
                    None
                }
            })
            .collect();
        let mut operator_ref = String::with_capacity(ids.iter().map(|i| i.len() + 1).sum());
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                operator_ref.push(',');
            }
            operator_ref.push_str(&String::from_utf8_lossy(id));
        }
        sh.events.handed_off(
            &f.ready,
            Handoff {
                at,
                units: f.prep.units,
                operator_ref,
            },
        );
        sh.register(now, f.ready, &ids);
    }

    fn take(&mut self, slot: usize) -> Option<Flight> {
        let f = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        Some(f)
    }

    /// Gives back every dispatch with no part sent or accepted (the bind is down, or shutting
    /// down): another bind, or the next run, takes it. Returns how many.
    pub fn give_back_idle(&mut self, sh: &Shared) -> usize {
        let mut n = 0;
        for slot in 0..self.slots.len() {
            let idle = self.slots[slot]
                .as_ref()
                .is_some_and(|f| f.fail.is_none() && f.parts.iter().all(|p| *p == PartSt::Unsent));
            if idle && let Some(f) = self.take(slot) {
                sh.events
                    .retry(f.ready, std::time::Duration::ZERO, RetryReason::LinkDown);
                n += 1;
            }
        }
        n
    }

    /// At the very end: dispatches with some parts accepted and others never answered fail.
    pub fn fail_remaining(&mut self, sh: &Shared) {
        self.give_back_idle(sh);
        for slot in 0..self.slots.len() {
            if let Some(f) = self.take(slot) {
                let accepted = f
                    .parts
                    .iter()
                    .filter(|p| matches!(p, PartSt::Accepted(_)))
                    .count();
                let why = format!(
                    "smpp:shutdown with {accepted} of {} parts accepted",
                    f.parts.len()
                );
                sh.events.finished(
                    f.ready,
                    Outcome::simple(FinalState::Failed, Some(why), sh.clock.now()),
                );
            }
        }
        self.sendq.clear();
        self.delayed.clear();
    }
}

#[cfg(test)]
#[path = "inflight_tests.rs"]
mod tests;
