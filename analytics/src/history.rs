//! Per-number facts from receipts and feedback: a pure in-memory index.
//!
//! [`History`] keeps every outcome as a compact [`Event`] (32 bytes), grouped by number and
//! sorted by time, so validation does one hash lookup per number and training can ask what
//! was known *before* a cut-off ([`History::facts`] with `as_of`).
//!
//! ```
//! use sendbox_analytics::generate::{Generator, GeneratorConfig};
//! use sendbox_analytics::history::History;
//! let g = Generator::new(GeneratorConfig { recipients: 50, ..GeneratorConfig::default() }).generate();
//! let h = History::from_rows(g.receipts.iter(), g.feedback.iter());
//! let f = h.facts(g.receipts[0].msisdn, None, jiff::Timestamp::MAX);
//! assert!(f.attempts() > 0);
//! ```

use jiff::Timestamp;
use sendbox_dispatch::{Channel, FinalState};
use sendbox_store::{FeedbackKind, FeedbackRow, ReceiptRow, Store, StoreError};
use std::collections::HashMap;

pub use crate::facts::Facts;
pub use crate::failure::{describe_code, permanent_code};

/// What happened in one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An SMS receipt said delivered.
    SmsDelivered,
    /// An SMS that did not arrive, for a temporary reason (expired, failed).
    SmsFailed,
    /// A call was answered.
    CallAnswered,
    /// A call was not answered (busy, no answer, failed, cancelled).
    CallMissed,
    /// A permanent failure: the number does not exist or the destination is bad.
    PermanentFailure,
    /// An inbound SMS reply.
    Reply,
    /// DTMF keys reported as feedback (outside a call receipt).
    Keys,
}

/// One outcome, compact. Times are Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// When the outcome became known.
    pub at: i64,
    /// What happened.
    pub kind: EventKind,
    /// The account (index into [`History::accounts`]).
    pub account: u32,
    /// The operator (index into [`History::operators`]), `u16::MAX` if unknown.
    pub operator: u16,
    /// Permanent failure code (index into [`History::codes`]), `u16::MAX` if none.
    pub code: u16,
    /// Voice: share of the prompt heard, in permille.
    pub heard_permille: u16,
    /// Voice: DTMF keys pressed during the call.
    pub keys: u8,
    /// Hour of the day in Asia/Almaty (UTC+5) when it happened.
    pub local_hour: u8,
}

/// Builds a [`History`] row by row.
#[derive(Debug, Default)]
pub struct HistoryBuilder {
    rows: Vec<(u64, Event)>,
    accounts: Interner,
    operators: Interner,
    codes: Interner,
}

#[derive(Debug, Default)]
struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    fn get(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }
}

fn local_hour(at: Timestamp) -> u8 {
    // Asia/Almaty is UTC+5 all year (no DST since 2024).
    u8::try_from((at.as_second() + 5 * 3600).rem_euclid(86_400) / 3600).unwrap_or(0)
}

impl HistoryBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a receipt. Refused dispatches (never sent) are ignored.
    pub fn add_receipt(&mut self, r: &ReceiptRow) {
        if r.state == FinalState::Refused {
            return;
        }
        let code = permanent_code(r.state, r.error.as_deref());
        let kind = match (&code, r.channel, r.state) {
            (Some(_), _, _) => EventKind::PermanentFailure,
            (None, Channel::Sms, FinalState::Delivered) => EventKind::SmsDelivered,
            (None, Channel::Sms, _) => EventKind::SmsFailed,
            (None, Channel::Voice, FinalState::Answered) => EventKind::CallAnswered,
            (None, Channel::Voice, _) => EventKind::CallMissed,
        };
        let (heard, keys) = match &r.call {
            Some(c) if c.prompt_ms > 0 => (
                u16::try_from((c.heard_ms.min(c.prompt_ms) * 1000) / c.prompt_ms).unwrap_or(1000),
                u8::try_from(c.digits.len()).unwrap_or(u8::MAX),
            ),
            Some(c) => (0, u8::try_from(c.digits.len()).unwrap_or(u8::MAX)),
            None => (0, 0),
        };
        let ev = Event {
            at: r.final_at_utc.as_second(),
            kind,
            account: self.accounts.get(&r.account),
            operator: u16::try_from(self.operators.get(&r.operator)).unwrap_or(u16::MAX),
            code: code.map_or(u16::MAX, |c| {
                u16::try_from(self.codes.get(&c)).unwrap_or(u16::MAX)
            }),
            heard_permille: heard,
            keys,
            local_hour: local_hour(r.final_at_utc),
        };
        self.rows.push((r.msisdn, ev));
    }

    /// Adds a reply or DTMF feedback.
    pub fn add_feedback(&mut self, f: &FeedbackRow) {
        let ev = Event {
            at: f.at.as_second(),
            kind: match f.kind {
                FeedbackKind::Reply => EventKind::Reply,
                FeedbackKind::Dtmf => EventKind::Keys,
            },
            account: self.accounts.get(&f.account),
            operator: u16::MAX,
            code: u16::MAX,
            heard_permille: 0,
            keys: u8::try_from(f.body.len()).unwrap_or(u8::MAX),
            local_hour: local_hour(f.at),
        };
        self.rows.push((f.msisdn, ev));
    }

    /// Sorts and indexes the events.
    pub fn build(mut self) -> History {
        self.rows.sort_unstable_by_key(|(m, e)| (*m, e.at));
        let mut index = HashMap::with_capacity(self.rows.len() / 2 + 1);
        let mut msisdns = Vec::with_capacity(self.rows.len());
        let mut events = Vec::with_capacity(self.rows.len());
        let mut start = 0usize;
        for (i, (m, e)) in self.rows.iter().enumerate() {
            if i > 0 && self.rows[i - 1].0 != *m {
                index.insert(self.rows[i - 1].0, (start as u32, i as u32));
                start = i;
            }
            msisdns.push(*m);
            events.push(*e);
        }
        if let Some((m, _)) = self.rows.last() {
            index.insert(*m, (start as u32, self.rows.len() as u32));
        }
        History {
            events,
            index,
            accounts: self.accounts.names,
            operators: self.operators.names,
            codes: self.codes.names,
        }
    }
}

/// Every outcome known, by number. Immutable once built; share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct History {
    events: Vec<Event>,
    index: HashMap<u64, (u32, u32)>,
    accounts: Vec<String>,
    operators: Vec<String>,
    codes: Vec<String>,
}

impl History {
    /// Builds from receipts and feedback rows.
    pub fn from_rows<'a>(
        receipts: impl IntoIterator<Item = &'a ReceiptRow>,
        feedback: impl IntoIterator<Item = &'a FeedbackRow>,
    ) -> History {
        let mut b = HistoryBuilder::new();
        receipts.into_iter().for_each(|r| b.add_receipt(r));
        feedback.into_iter().for_each(|f| b.add_feedback(f));
        b.build()
    }

    /// Pages through [`Store::receipts_after`] (optionally of one account) and builds the
    /// history. Replies are not included: the store has no paged feedback query yet (add
    /// them with [`HistoryBuilder::add_feedback`] when it has).
    pub async fn load(store: &dyn Store, account: Option<&str>) -> Result<History, StoreError> {
        let mut b = HistoryBuilder::new();
        let mut cursor = 0;
        loop {
            let page = store.receipts_after(cursor, 10_000, account).await?;
            if page.receipts.is_empty() {
                break;
            }
            page.receipts.iter().for_each(|r| b.add_receipt(&r.receipt));
            cursor = page.next_cursor;
        }
        // Replies and DTMF input: the whole feed, paged by its sequence.
        let mut after = 0;
        loop {
            let page = store
                .feedback_for(sendbox_store::FeedbackKey::After {
                    after,
                    limit: 10_000,
                })
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            page.iter()
                .filter(|f| account.is_none_or(|a| f.feedback.account == a))
                .for_each(|f| b.add_feedback(&f.feedback));
        }
        Ok(b.build())
    }

    /// All events of `msisdn`, oldest first.
    pub fn events(&self, msisdn: u64) -> &[Event] {
        match self.index.get(&msisdn) {
            Some(&(a, b)) => &self.events[a as usize..b as usize],
            None => &[],
        }
    }

    /// Numbers with at least one event.
    pub fn msisdns(&self) -> impl Iterator<Item = u64> + '_ {
        self.index.keys().copied()
    }

    /// How many numbers are known.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Account names, by [`Event::account`].
    pub fn accounts(&self) -> &[String] {
        &self.accounts
    }

    /// Operator names, by [`Event::operator`].
    pub fn operators(&self) -> &[String] {
        &self.operators
    }

    /// Permanent failure codes, by [`Event::code`].
    pub fn codes(&self) -> &[String] {
        &self.codes
    }

    /// The index of `account`, if it has any event.
    pub fn account_index(&self, account: &str) -> Option<u32> {
        self.accounts
            .iter()
            .position(|a| a == account)
            .map(|i| i as u32)
    }

    /// Whether `msisdn` failed permanently at least `threshold` times (in `account`'s
    /// history if given): campaigns may skip it. One hash lookup; no allocation.
    pub fn is_unreachable(&self, msisdn: u64, account: Option<u32>, threshold: u32) -> bool {
        self.events(msisdn)
            .iter()
            .filter(|e| {
                e.kind == EventKind::PermanentFailure && account.is_none_or(|a| a == e.account)
            })
            .count()
            >= threshold.max(1) as usize
    }

    /// The latest event time in the history.
    pub fn latest(&self) -> Option<i64> {
        self.events.iter().map(|e| e.at).max()
    }

    /// Facts about `msisdn` from events strictly before `as_of`, of `account` if given (by
    /// index, see [`History::account_index`]). Allocation-free: names are left empty (see
    /// [`History::facts`]).
    pub fn facts_idx(&self, msisdn: u64, account: Option<u32>, as_of: i64) -> Facts {
        let mut f = Facts::default();
        let mut last_op = None;
        let mut last_code = None;
        for e in self.events(msisdn) {
            if e.at >= as_of {
                break;
            }
            if account.is_some_and(|a| a != e.account) {
                continue;
            }
            let engaged = match e.kind {
                EventKind::SmsDelivered => {
                    f.sms_sent += 1;
                    f.sms_delivered += 1;
                    f.last_delivered = Some(e.at);
                    true
                }
                EventKind::SmsFailed => {
                    f.sms_sent += 1;
                    false
                }
                EventKind::CallAnswered => {
                    f.calls += 1;
                    f.calls_answered += 1;
                    f.last_answered = Some(e.at);
                    f.heard_fraction_sum += f64::from(e.heard_permille) / 1000.0;
                    if e.heard_permille >= 900 {
                        f.heard_to_end += 1;
                    }
                    if e.keys > 0 {
                        f.key_presses += 1;
                    }
                    true
                }
                EventKind::CallMissed => {
                    f.calls += 1;
                    false
                }
                EventKind::PermanentFailure => {
                    f.sms_sent += 1;
                    f.permanent_failures += 1;
                    last_code = Some((e.at, e.code));
                    false
                }
                EventKind::Reply => {
                    f.replies += 1;
                    true
                }
                EventKind::Keys => {
                    f.key_presses += 1;
                    true
                }
            };
            if !matches!(e.kind, EventKind::Reply | EventKind::Keys) {
                f.last_attempt = Some(e.at);
                if e.operator != u16::MAX {
                    last_op = Some(e.operator);
                }
            }
            if engaged {
                f.last_reached = Some(f.last_reached.map_or(e.at, |l: i64| l.max(e.at)));
                let part = match e.local_hour {
                    6..=11 => 0,
                    12..=17 => 1,
                    18..=23 => 2,
                    _ => 3,
                };
                f.engaged_by_daypart[part] += 1;
            }
        }
        f.operator_idx = last_op;
        f.permanent_code_idx = last_code;
        f
    }

    fn fill_names(&self, mut f: Facts) -> Facts {
        f.operator = f
            .operator_idx
            .and_then(|o| self.operators.get(usize::from(o)).cloned());
        f.last_permanent_failure = f.permanent_code_idx.map(|(at, c)| {
            (
                at,
                self.codes.get(usize::from(c)).cloned().unwrap_or_default(),
            )
        });
        f
    }

    /// [`History::facts_idx`] with the account by name, the cut-off as a timestamp, and the
    /// operator and failure code names filled in.
    pub fn facts(&self, msisdn: u64, account: Option<&str>, as_of: Timestamp) -> Facts {
        match account {
            Some(a) => match self.account_index(a) {
                Some(i) => self.fill_names(self.facts_idx(msisdn, Some(i), as_of.as_second())),
                None => Facts::default(),
            },
            None => self.fill_names(self.facts_idx(msisdn, None, as_of.as_second())),
        }
    }
}
