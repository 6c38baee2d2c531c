//! The dispatch core: admits dispatches into operator queues and is the [`LinkEvents`] every
//! operator link reports to.
//!
//! Admission runs the time- and money-dependent stages: the calling window (closed: the
//! dispatch waits in [`Deferrals`] for the next opening) and the balance (reserved when queued;
//! none left: the dispatch is parked as `insufficient_funds` until a top-up). At handoff the
//! window is checked again ([`LinkEvents::gate`]) and the reservation is debited; a final
//! outcome releases what was not spent and writes the receipt.

use crate::core_metrics::CoreMetrics;
use crate::deferral::Deferrals;
use crate::metrics as m;
use crate::records::{Record, RecordSink};
use crate::stats::{Stats, channel_index};
use crate::tables::Tables;
use arc_swap::ArcSwap;
use dashmap::DashMap;
use parking_lot::Mutex;
use sendbox_dispatch::clock::WallClock;
use sendbox_dispatch::{
    Channel, Content, FinalState, Handoff, LinkEvents, OperatorId, OperatorQueue, Outcome, Ready,
    RetryReason,
};
use sendbox_policy::balance::Wallets;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Where admission put a dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// In its operator's queue.
    Queued,
    /// Waiting for the window's next opening (or the campaign's start).
    Deferred(jiff::Timestamp),
    /// Parked until the account is topped up.
    InsufficientFunds,
    /// Refused: the window never opens for it.
    Refused,
}

/// What the core knows about a dispatch between handoff and its final outcome.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    debited: i64,
    at: jiff::Timestamp,
    inside_window: bool,
}

/// The dispatch core. Shared by the API, the deferral task and every operator link.
#[derive(Debug)]
pub struct Core {
    /// Wall clock (injected: tests and the demo move it).
    pub clock: Arc<dyn WallClock>,
    /// Reloadable tables: routing, window rules, tariffs, blacklists.
    pub tables: ArcSwap<Tables>,
    /// Account balances.
    pub wallets: Wallets,
    /// Queues per operator: `[sms, voice]`.
    pub queues: Vec<[Arc<OperatorQueue>; 2]>,
    /// Counters for the summary and the admin stats.
    pub stats: Stats,
    prom: CoreMetrics,
    /// Where records go (the store writer).
    pub sink: RecordSink,
    deferrals: OnceLock<Deferrals>,
    paused: Vec<Mutex<Vec<Ready>>>,
    inflight: DashMap<u64, InFlight, foldhash::fast::RandomState>,
    /// Voice: what earlier attempts of a dispatch cost (each attempt is billed at its INVITE),
    /// so the final receipt carries the dispatch's whole cost.
    earlier_attempts: DashMap<u64, i64, foldhash::fast::RandomState>,
    /// Whether links were last told to hold new dispatches, and how often that began since
    /// it was last logged (at most every [`HOLD_LOG_EVERY`]: under sustained overload it
    /// begins and ends with every store commit).
    holding: std::sync::atomic::AtomicBool,
    holds: Mutex<(u64, Option<tokio::time::Instant>)>,
    /// Voice: attempts per dispatch and the interval between them.
    pub voice_retry: (u16, Duration),
}

impl Core {
    /// A core for `accounts` accounts and `operators` operators.
    pub fn new(
        clock: Arc<dyn WallClock>,
        tables: Tables,
        wallets: Wallets,
        accounts: usize,
        queue_capacity: usize,
        sink: RecordSink,
        voice_retry: (u16, Duration),
    ) -> Self {
        let operators = tables.operators.len();
        let prom = CoreMetrics::new(&tables.operators);
        Core {
            clock,
            queues: (0..operators)
                .map(|_| {
                    [
                        Arc::new(OperatorQueue::new(accounts, queue_capacity)),
                        Arc::new(OperatorQueue::new(accounts, queue_capacity)),
                    ]
                })
                .collect(),
            tables: ArcSwap::from_pointee(tables),
            wallets,
            stats: Stats::new(operators),
            prom,
            sink,
            deferrals: OnceLock::new(),
            paused: (0..accounts).map(|_| Mutex::new(Vec::new())).collect(),
            inflight: DashMap::default(),
            earlier_attempts: DashMap::default(),
            holding: std::sync::atomic::AtomicBool::new(false),
            holds: Mutex::new((0, None)),
            voice_retry,
        }
    }

    /// Start the deferral task; must be called once, inside a tokio runtime, before admitting.
    pub fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        let (d, task) = Deferrals::spawn(self.clock.clone(), move |ready| {
            if let Some(core) = weak.upgrade() {
                let _ = core.admit(ready);
            }
        });
        // `start` is called once; a second call keeps the first task.
        let _ = self.deferrals.set(d);
        task
    }

    fn deferrals(&self) -> &Deferrals {
        // Invariant: `start` runs before any dispatch is admitted (App::build does it).
        self.deferrals.get().expect("Core::start was not called")
    }

    /// The queue of an operator and channel.
    pub fn queue(&self, op: OperatorId, channel: Channel) -> &Arc<OperatorQueue> {
        &self.queues[usize::from(op.0)][channel_index(channel)]
    }

    /// Room left in an operator's queue.
    pub fn has_room(&self, op: OperatorId, channel: Channel, n: usize) -> bool {
        let q = self.queue(op, channel);
        q.len() + n <= q.capacity()
    }

    /// Dispatches waiting for the window or a retry.
    pub fn deferred_len(&self) -> usize {
        self.deferrals.get().map_or(0, Deferrals::len)
    }

    /// Dispatches parked for insufficient funds, per account.
    pub fn paused_len(&self, account: u32) -> usize {
        self.paused
            .get(account as usize)
            .map_or(0, |p| p.lock().len())
    }

    /// Admit a dispatch: window, then balance, then its operator queue.
    pub fn admit(&self, mut d: Ready) -> Admission {
        let now = self.clock.now();
        let tables = self.tables.load();
        if !tables.window.is_open(now, d.operator, d.class, d.account) {
            return self.defer_to_window(d, now, &tables);
        }
        if d.reserved == 0 {
            let need = tables.reservation(&d);
            if self.wallets.is_paused(d.account) || self.wallets.reserve(d.account, need).is_err() {
                self.park_for_funds(d, now);
                return Admission::InsufficientFunds;
            }
            d.reserved = need;
        }
        let channel = d.channel();
        let q = self.queue(d.operator, channel).clone();
        if let Err(full) = q.push(d) {
            // Only re-admissions can meet a full queue (the API checks room first): try again
            // shortly rather than drop anything.
            self.deferrals().after(Duration::from_millis(100), *full.0);
        }
        Admission::Queued
    }

    /// Hold a dispatch until `at` (a campaign's start time), then admit it.
    pub fn admit_at(&self, d: Ready, at: jiff::Timestamp) -> Admission {
        let now = self.clock.now();
        if at <= now {
            return self.admit(d);
        }
        self.sink.send(Record::Deferred { id: d.id, at: now });
        self.deferrals().until(at, d);
        Admission::Deferred(at)
    }

    fn defer_to_window(&self, d: Ready, now: jiff::Timestamp, tables: &Tables) -> Admission {
        match tables
            .window
            .next_opening(now, d.operator, d.class, d.account)
        {
            Some(at) => {
                self.stats
                    .deferred
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                metrics::counter!(m::DEFERRED, "channel" => d.channel().as_str()).increment(1);
                self.sink.send(Record::Deferred { id: d.id, at: now });
                self.deferrals().until(at, d);
                Admission::Deferred(at)
            }
            None => {
                self.refuse(d, "window_never_opens");
                Admission::Refused
            }
        }
    }

    fn park_for_funds(&self, d: Ready, now: jiff::Timestamp) {
        self.stats
            .funds_paused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!(m::FUNDS_PAUSES).increment(1);
        metrics::gauge!(m::FUNDS_PAUSED).increment(1.0);
        self.sink
            .send(Record::InsufficientFunds { id: d.id, at: now });
        let idx = d.account.0 as usize;
        if let Some(p) = self.paused.get(idx) {
            p.lock().push(d);
        }
    }

    /// After a top-up: re-admit the account's parked dispatches, oldest first.
    pub fn resume_account(&self, account: u32) {
        let parked = match self.paused.get(account as usize) {
            Some(p) => std::mem::take(&mut *p.lock()),
            None => return,
        };
        metrics::gauge!(m::FUNDS_PAUSED).decrement(parked.len() as f64);
        for d in parked {
            let _ = self.admit(d);
        }
    }

    /// After a restart: what the earlier attempts of a call cost (in the ledger already), so
    /// its receipt still sums every attempt it was billed for.
    pub fn restore_earlier_attempts(&self, id: sendbox_dispatch::DispatchId, tiyn: i64) {
        if tiyn > 0 {
            self.earlier_attempts.insert(id.0, tiyn);
        }
    }

    /// After a restart: a dispatch that was handed off (and debited) before the stop.
    pub fn restore_handed_off(&self, d: &mut Ready, at: jiff::Timestamp, debited: i64) {
        d.reserved = debited;
        let inside_window = self
            .tables
            .load()
            .window
            .is_open(at, d.operator, d.class, d.account);
        self.inflight.insert(
            d.id.0,
            InFlight {
                debited,
                at,
                inside_window,
            },
        );
        // The wallet was rebuilt from the ledger, which already has this debit, so nothing
        // is held: with `reserved == debited`, `finished` releases nothing and debits no more.
    }

    /// Refuse a dispatch before it was ever queued (policy): final receipt, nothing reserved.
    pub fn refuse(&self, d: Ready, reason: &str) {
        self.stats.record_rejected(reason);
        metrics::counter!(m::REJECTED, "channel" => d.channel().as_str(), "reason" => reason.to_owned())
            .increment(1);
        let now = self.clock.now();
        self.finished(
            d,
            Outcome::simple(FinalState::Refused, Some(reason.into()), now),
        );
    }

    fn operator_name(&self, op: OperatorId) -> Arc<str> {
        self.tables.load().operator_name(op)
    }
}

/// Records not yet durable past which links take no new dispatches ([`LinkEvents::hold_new`]):
/// about 65,000 SMS (a handoff and a receipt each), two thirds of a second of the store's work
/// at 100,000 SMS/s, and some 40 MB of records. That bounds the memory they take and the
/// handoffs a crash leaves unrecorded.
///
/// At 65,536 the SMS throughput run held its links back again and again while a group commit
/// was under way, and the machine sat 7-8 % idle: 112,468/s (median of 4 runs). At 131,072 the
/// store's group commits grow instead, the run reaches its configured ceiling (12 binds at
/// 10,000/s each), 119,793/s, with 4 % idle; 196,608 and 393,216 gained nothing more
/// (load-tests/RESULTS.md, session 9).
pub const MAX_UNSTORED_RECORDS: usize = 131_072;

/// How often, at most, holding links back is logged (with how many times it began).
const HOLD_LOG_EVERY: Duration = Duration::from_secs(30);

impl LinkEvents for Core {
    fn hold_new(&self) -> bool {
        let pending = self.sink.pending();
        let hold = pending >= MAX_UNSTORED_RECORDS;
        // A plain load on every pass; the swap (and the log line) only when it changes.
        let changed = self.holding.load(std::sync::atomic::Ordering::Relaxed) != hold
            && self
                .holding
                .swap(hold, std::sync::atomic::Ordering::Relaxed)
                != hold;
        if changed && hold {
            let mut holds = self.holds.lock();
            holds.0 += 1;
            let now = tokio::time::Instant::now();
            if holds.1.is_none_or(|last| now >= last + HOLD_LOG_EVERY) {
                tracing::warn!(
                    unstored_records = pending,
                    times = holds.0,
                    "The store is behind: links take no new dispatches until it catches up."
                );
                *holds = (0, Some(now));
            }
        }
        hold
    }

    fn gate(&self, d: Ready) -> Option<Ready> {
        let now = self.clock.now();
        let tables = self.tables.load();
        if tables.window.is_open(now, d.operator, d.class, d.account) {
            Some(d)
        } else {
            // Keep the reservation: the dispatch is still owed to its account's queue.
            let _ = self.defer_to_window(d, now, &tables);
            None
        }
    }

    fn handed_off(&self, d: &Ready, h: Handoff) {
        let tables = self.tables.load();
        let cost = tables.handoff_cost(d, h.units).min(d.reserved);
        let inside_window = tables.window.is_open(h.at, d.operator, d.class, d.account);
        let mut first = false;
        self.inflight.entry(d.id.0).or_insert_with(|| {
            first = true;
            InFlight {
                debited: cost,
                at: h.at,
                inside_window,
            }
        });
        if !first {
            // A duplicate handoff (the SMSC accepted a resend after a reconnect): billed once.
            return;
        }
        let _ = self.wallets.debit(d.account, cost, cost);
        let ch = d.channel();
        if let Some(s) = self.stats.link(d.operator.0, ch) {
            s.handed_off
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            s.debited
                .fetch_add(cost as u64, std::sync::atomic::Ordering::Relaxed);
        }
        let waited = h.at.duration_since(d.accepted_at);
        if let Ok(w) = Duration::try_from(waited) {
            self.stats.accept_to_handoff[channel_index(ch)].record(w);
            self.prom.accept_to_handoff(ch, w.as_secs_f64());
        }
        self.prom.handed_off(d.operator, ch, cost);
        self.sink.send(Record::HandedOff {
            ready: d.clone(),
            at: h.at,
            local: tables.window.local_time(h.at),
            units: h.units,
            cost,
            operator_ref: h.operator_ref,
            inside_window,
        });
    }

    fn finished(&self, d: Ready, outcome: Outcome) {
        let tables = self.tables.load();
        let inflight = self.inflight.remove(&d.id.0).map(|(_, f)| f);
        let debited = inflight.map_or(0, |f| f.debited);
        let remaining = (d.reserved - debited).max(0);
        let extra = match (&*d.content, inflight) {
            (Content::Voice(_), Some(_)) if outcome.billable_seconds > 0 => tables
                .call_seconds_cost(d.operator, outcome.billable_seconds)
                .min(remaining),
            _ => 0,
        };
        if extra > 0 {
            let _ = self.wallets.debit(d.account, remaining, extra);
        } else if remaining > 0 {
            let _ = self.wallets.release(d.account, remaining);
        }
        let ch = d.channel();
        // Refusals are counted by reason in `stats.rejected`, not per link.
        if let Some(s) = self.stats.link(d.operator.0, ch)
            && outcome.state != FinalState::Refused
        {
            s.record_final(outcome.state, outcome.error.as_deref());
            s.debited
                .fetch_add(extra as u64, std::sync::atomic::Ordering::Relaxed);
        }
        if let Some(f) = inflight
            && let Ok(w) = Duration::try_from(outcome.at.duration_since(f.at))
        {
            self.stats.handoff_to_final[channel_index(ch)].record(w);
            self.prom.handoff_to_final(ch, w.as_secs_f64());
        }
        self.prom
            .finished(d.operator, ch, outcome.state, outcome.error.as_deref());
        let earlier = self.earlier_attempts.remove(&d.id.0).map_or(0, |(_, c)| c);
        self.sink.send(Record::Final {
            local_final: tables.window.local_time(outcome.at),
            handed_off: inflight.map(|f| (f.at, tables.window.local_time(f.at), f.inside_window)),
            cost: debited + extra + earlier,
            extra_debit: extra,
            ready: d,
            outcome,
        });
    }

    fn retry(&self, mut d: Ready, after: Duration, reason: RetryReason) {
        let ch = d.channel();
        if let Some(s) = self.stats.link(d.operator.0, ch) {
            s.retried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let reason_label = match reason {
            RetryReason::Throttled => "throttled",
            RetryReason::LinkDown => "link_down",
            RetryReason::Temporary => "temporary",
            RetryReason::NewAttempt => "new_attempt",
        };
        metrics::counter!(m::RETRIED, "operator" => self.operator_name(d.operator).to_string(), "channel" => ch.as_str(), "reason" => reason_label)
            .increment(1);
        match reason {
            RetryReason::Throttled | RetryReason::LinkDown if after.is_zero() => {
                self.queue(d.operator, ch).push_front(d);
            }
            RetryReason::Throttled | RetryReason::LinkDown => self.deferrals().after(after, d),
            RetryReason::Temporary => {
                d.retries += 1;
                self.deferrals().after(after, d);
            }
            RetryReason::NewAttempt => {
                // The attempt that ended was billed at its handoff; the next one is a new
                // attempt with its own reservation.
                if let Some((_, f)) = self.inflight.remove(&d.id.0) {
                    *self.earlier_attempts.entry(d.id.0).or_default() += f.debited;
                    let remaining = (d.reserved - f.debited).max(0);
                    if remaining > 0 {
                        let _ = self.wallets.release(d.account, remaining);
                    }
                    let now = self.clock.now();
                    self.sink.send(Record::AttemptEnded {
                        id: d.id,
                        attempt: d.attempt,
                        at: now,
                        retry_at: now.checked_add(after).unwrap_or(now),
                    });
                } else if d.reserved > 0 {
                    let _ = self.wallets.release(d.account, d.reserved);
                }
                // The link has already counted the new attempt in `d.attempt`.
                d.reserved = 0;
                d.retries = 0;
                self.deferrals().after(after, d);
            }
        }
    }

    fn inbound_sms(&self, operator: OperatorId, from: u64, to: &str, text: &str) {
        self.sink.send(Record::Inbound {
            operator: self.operator_name(operator),
            from,
            to: to.to_owned(),
            text: text.to_owned(),
            at: self.clock.now(),
        });
    }
}
