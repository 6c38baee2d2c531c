//! The calling window: when a dispatch may be handed to an operator, in Asia/Almaty wall time.
//!
//! The default is 09:00–20:00 every day. Rules narrow it per operator, per traffic class and
//! per account; the effective rule is the intersection of all that apply (latest start,
//! earliest end, days in every rule, closed on holidays if any rule says so). Outside the
//! window a dispatch is deferred to [`WindowPolicy::next_opening`] and checked again with
//! [`WindowPolicy::is_open`] at the moment of handoff.
//!
//! The time zone comes from jiff's bundled IANA database: Almaty was +06 until 2024-03-01 and
//! is +05 since. Its offsets are precomputed into a table (`zone.rs`), so `is_open` is a few
//! integer operations: no tz conversion per dispatch.
//!
//! ```
//! use sendbox_policy::window::{WindowPolicy, WindowRule, days};
//! use sendbox_policy::{AccountId, OperatorId, TrafficClass};
//! let marketing = WindowRule::try_new(10 * 60, 19 * 60, days::WEEKDAYS, true).unwrap();
//! let policy = WindowPolicy::almaty_default()
//!     .unwrap()
//!     .with_class(TrafficClass::Marketing, marketing);
//! let (op, acc) = (OperatorId(0), AccountId(0));
//! // Wednesday 2026-11-25 09:30 in Almaty (+05) is 04:30 UTC.
//! let t: jiff::Timestamp = "2026-11-25T04:30:00Z".parse().unwrap();
//! assert!(policy.is_open(t, op, TrafficClass::Service, acc));
//! assert!(!policy.is_open(t, op, TrafficClass::Marketing, acc));
//! let opens = policy.next_opening(t, op, TrafficClass::Marketing, acc).unwrap();
//! assert_eq!(policy.local_time(opens), "2026-11-25T10:00:00+05:00");
//! ```

use crate::zone::{Zone, floor_second, ts};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone, TimeZoneDatabase};
use sendbox_dispatch::{AccountId, LocalTime, OperatorId, TrafficClass};

/// Day-of-week bits for [`WindowRule`]: bit 0 is Monday, bit 6 is Sunday.
pub mod days {
    /// Monday.
    pub const MON: u8 = 1 << 0;
    /// Tuesday.
    pub const TUE: u8 = 1 << 1;
    /// Wednesday.
    pub const WED: u8 = 1 << 2;
    /// Thursday.
    pub const THU: u8 = 1 << 3;
    /// Friday.
    pub const FRI: u8 = 1 << 4;
    /// Saturday.
    pub const SAT: u8 = 1 << 5;
    /// Sunday.
    pub const SUN: u8 = 1 << 6;
    /// Monday to Friday.
    pub const WEEKDAYS: u8 = MON | TUE | WED | THU | FRI;
    /// Saturday and Sunday.
    pub const WEEKEND: u8 = SAT | SUN;
    /// Every day.
    pub const ALL: u8 = WEEKDAYS | WEEKEND;
}

/// The Almaty time zone name.
pub const ALMATY: &str = "Asia/Almaty";
/// How far [`WindowPolicy::next_opening`] looks ahead.
pub const HORIZON_DAYS: i64 = 400;

const DAY: i64 = 86_400;

/// A rule given to [`WindowRule::try_new`] or [`WindowPolicy::almaty_default`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// [`WindowRule::try_new`]: start must be before end, and end at most 24:00 (1440).
    #[error("window {start_min}-{end_min} minutes is empty or past 24:00")]
    BadTimes {
        /// Start, minutes after local midnight.
        start_min: u16,
        /// End, minutes after local midnight.
        end_min: u16,
    },
    /// [`WindowRule::try_new`]: day bits above Sunday (bit 6) are set.
    #[error("day mask {0:#09b} has bits beyond Sunday")]
    BadDays(u8),
    /// [`WindowPolicy::almaty_default`] / [`almaty`]: the time zone is missing from the
    /// bundled database.
    #[error("time zone {name}: {message}")]
    TimeZone {
        /// The zone name.
        name: &'static str,
        /// jiff's error.
        message: String,
    },
}

/// Open from `start_min` to `end_min` (minutes after local midnight, end exclusive, at most
/// 1440) on the days in `days` ([`days`] bits), and closed on holidays if
/// `closed_on_holidays`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowRule {
    start_min: u16,
    end_min: u16,
    days: u8,
    closed_on_holidays: bool,
}

impl WindowRule {
    /// Always open: 00:00–24:00, every day, holidays too. The neutral rule for intersection.
    pub const ALWAYS: WindowRule = WindowRule {
        start_min: 0,
        end_min: 1440,
        days: days::ALL,
        closed_on_holidays: false,
    };

    /// The issue's default: 09:00–20:00 every day, holidays included.
    pub const DEFAULT: WindowRule = WindowRule {
        start_min: 9 * 60,
        end_min: 20 * 60,
        days: days::ALL,
        closed_on_holidays: false,
    };

    /// Validates a rule: `start_min < end_min <= 1440` and only bits 0–6 in `days`.
    pub fn try_new(
        start_min: u16,
        end_min: u16,
        days: u8,
        closed_on_holidays: bool,
    ) -> Result<WindowRule, WindowError> {
        if start_min >= end_min || end_min > 1440 {
            return Err(WindowError::BadTimes { start_min, end_min });
        }
        if days & !days::ALL != 0 {
            return Err(WindowError::BadDays(days));
        }
        Ok(WindowRule {
            start_min,
            end_min,
            days,
            closed_on_holidays,
        })
    }

    /// Open only when both rules are open.
    pub fn intersect(self, other: WindowRule) -> WindowRule {
        WindowRule {
            start_min: self.start_min.max(other.start_min),
            end_min: self.end_min.min(other.end_min),
            days: self.days & other.days,
            closed_on_holidays: self.closed_on_holidays || other.closed_on_holidays,
        }
    }

    /// Whether the rule is never open (an intersection can be).
    pub fn is_never(self) -> bool {
        self.start_min >= self.end_min || self.days == 0
    }

    /// Start, minutes after local midnight.
    pub fn start_min(self) -> u16 {
        self.start_min
    }

    /// End (exclusive), minutes after local midnight.
    pub fn end_min(self) -> u16 {
        self.end_min
    }

    /// Day bits ([`days`]).
    pub fn days(self) -> u8 {
        self.days
    }

    /// Whether holidays are closed.
    pub fn closed_on_holidays(self) -> bool {
        self.closed_on_holidays
    }
}

/// Asia/Almaty from jiff's bundled database (the same on every host).
pub fn almaty() -> Result<TimeZone, WindowError> {
    TimeZoneDatabase::bundled()
        .get(ALMATY)
        .map_err(|e| WindowError::TimeZone {
            name: ALMATY,
            message: e.to_string(),
        })
}

/// The window rules and the time zone they are written in. Immutable: rebuild on config
/// reload.
#[derive(Debug, Clone)]
pub struct WindowPolicy {
    zone: Zone,
    default: WindowRule,
    /// Local dates as days since 1970-01-01, sorted.
    holidays: Vec<i64>,
    /// Indexed by `OperatorId.0`.
    operators: Vec<Option<WindowRule>>,
    /// Indexed by [`class_index`].
    classes: [Option<WindowRule>; 3],
    /// Sorted by account; only accounts with a rule of their own.
    accounts: Vec<(u32, WindowRule)>,
}

fn class_index(c: TrafficClass) -> usize {
    match c {
        TrafficClass::Service => 0,
        TrafficClass::Marketing => 1,
        TrafficClass::Otp => 2,
    }
}

impl WindowPolicy {
    /// Rules in `tz` with this default and no narrowing.
    pub fn new(tz: TimeZone, default: WindowRule) -> WindowPolicy {
        WindowPolicy {
            zone: Zone::new(tz),
            default,
            holidays: Vec::new(),
            operators: Vec::new(),
            classes: [None; 3],
            accounts: Vec::new(),
        }
    }

    /// 09:00–20:00 every day in Asia/Almaty.
    pub fn almaty_default() -> Result<WindowPolicy, WindowError> {
        Ok(WindowPolicy::new(almaty()?, WindowRule::DEFAULT))
    }

    /// Sets the holiday list (local dates); rules with `closed_on_holidays` are shut on them.
    pub fn with_holidays(mut self, holidays: impl IntoIterator<Item = Date>) -> WindowPolicy {
        let epoch = Date::constant(1970, 1, 1);
        self.holidays = holidays
            .into_iter()
            .map(|d| d.duration_since(epoch).as_secs().div_euclid(DAY))
            .collect();
        self.holidays.sort_unstable();
        self.holidays.dedup();
        self
    }

    /// Narrows the window for one operator (replacing an earlier rule for it).
    pub fn with_operator(mut self, op: OperatorId, rule: WindowRule) -> WindowPolicy {
        let i = usize::from(op.0);
        if i >= self.operators.len() {
            self.operators.resize(i + 1, None);
        }
        self.operators[i] = Some(rule);
        self
    }

    /// Narrows the window for one traffic class.
    pub fn with_class(mut self, class: TrafficClass, rule: WindowRule) -> WindowPolicy {
        self.classes[class_index(class)] = Some(rule);
        self
    }

    /// Narrows the window for one account.
    pub fn with_account(mut self, account: AccountId, rule: WindowRule) -> WindowPolicy {
        match self.accounts.binary_search_by_key(&account.0, |a| a.0) {
            Ok(i) => self.accounts[i].1 = rule,
            Err(i) => self.accounts.insert(i, (account.0, rule)),
        }
        self
    }

    /// The time zone of the rules.
    pub fn time_zone(&self) -> &TimeZone {
        self.zone.tz()
    }

    /// The rule in force for this operator, class and account.
    #[inline]
    pub fn effective(&self, op: OperatorId, class: TrafficClass, account: AccountId) -> WindowRule {
        let mut r = self.default;
        if let Some(Some(o)) = self.operators.get(usize::from(op.0)) {
            r = r.intersect(*o);
        }
        if let Some(c) = self.classes[class_index(class)] {
            r = r.intersect(c);
        }
        if !self.accounts.is_empty()
            && let Ok(i) = self.accounts.binary_search_by_key(&account.0, |a| a.0)
        {
            r = r.intersect(self.accounts[i].1);
        }
        r
    }

    /// Whether a dispatch may be handed off at `at`.
    #[inline]
    pub fn is_open(
        &self,
        at: Timestamp,
        op: OperatorId,
        class: TrafficClass,
        account: AccountId,
    ) -> bool {
        self.rule_open(self.effective(op, class, account), floor_second(at))
    }

    /// Whether `rule` is open at second `t` (UTC), judged by local wall time.
    #[inline]
    pub fn rule_is_open(&self, rule: WindowRule, at: Timestamp) -> bool {
        self.rule_open(rule, floor_second(at))
    }

    #[inline]
    fn rule_open(&self, rule: WindowRule, t: i64) -> bool {
        let local = t + i64::from(self.zone.offset_at(t));
        let day = local.div_euclid(DAY);
        let minute = local.rem_euclid(DAY) / 60;
        minute >= i64::from(rule.start_min)
            && minute < i64::from(rule.end_min)
            && self.day_open(rule, day)
    }

    #[inline]
    fn day_open(&self, rule: WindowRule, day: i64) -> bool {
        // 1970-01-01 was a Thursday (bit 3).
        let weekday = (day + 3).rem_euclid(7);
        rule.days & (1 << weekday) != 0
            && !(rule.closed_on_holidays && self.holidays.binary_search(&day).is_ok())
    }

    /// The earliest instant at or after `at` when the window is open; `None` if it does not
    /// open within [`HORIZON_DAYS`] days (e.g. the rules intersect to nothing).
    pub fn next_opening(
        &self,
        at: Timestamp,
        op: OperatorId,
        class: TrafficClass,
        account: AccountId,
    ) -> Option<Timestamp> {
        self.rule_next_opening(self.effective(op, class, account), at)
    }

    /// [`WindowPolicy::next_opening`] for an explicit rule.
    pub fn rule_next_opening(&self, rule: WindowRule, at: Timestamp) -> Option<Timestamp> {
        let t0 = floor_second(at);
        if self.rule_open(rule, t0) {
            return Some(at);
        }
        if rule.is_never() {
            return None;
        }
        let (open_s, close_s) = (i64::from(rule.start_min) * 60, i64::from(rule.end_min) * 60);
        let horizon = t0.saturating_add(HORIZON_DAYS * DAY);
        let mut t = t0;
        // Walk the constant-offset segments; within one, local time is t + offset, monotonic.
        while t < horizon {
            let (off, seg_end) = self.zone.segment(t);
            let off = i64::from(off);
            let end = seg_end.min(horizon);
            let (l, l_end) = (t + off, end + off);
            let mut day = l.div_euclid(DAY);
            while day * DAY < l_end {
                if self.day_open(rule, day) {
                    let from = l.max(day * DAY + open_s);
                    let until = l_end.min(day * DAY + close_s);
                    if from < until {
                        return Some(ts(from - off));
                    }
                }
                day += 1;
            }
            t = end;
        }
        None
    }

    /// The offset of the rules' zone at `at` (+05:00 for Almaty since 2024-03-01).
    pub fn offset_at(&self, at: Timestamp) -> Offset {
        // Offsets from the tz database are always within jiff's ±25:59:59 range.
        Offset::from_seconds(self.zone.offset_at(floor_second(at))).unwrap_or(Offset::UTC)
    }

    /// `at` as RFC 3339 local time with its offset, e.g. `2026-11-25T14:03:00+05:00`: the
    /// Almaty handoff time for receipts.
    pub fn local_time(&self, at: Timestamp) -> LocalTime {
        LocalTime::new(at, self.offset_at(at))
    }
}
