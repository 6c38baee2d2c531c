//! One calling-window rule: a daily interval, the weekdays it applies on, and whether it closes
//! on holidays.
//!
//! ```toml
//! [window.classes.marketing]
//! start = "09:00"
//! end = "20:00"
//! days = ["mon", "tue", "wed", "thu", "fri"]
//! closed_on_holidays = true
//! ```
//!
//! The policy crate intersects rules: effective window = default ∩ operator ∩ class ∩ account.
//! [`WindowRule::intersect`] gives the same answer for two rules.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// A wall-clock time as minutes since midnight, `0..=1440`; `"24:00"` (1440) ends a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    /// `24:00`, the end of the day.
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(1440);

    /// `hour:minute`; `None` unless it is within `00:00..=24:00`.
    pub fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        let m = u16::from(hour) * 60 + u16::from(minute);
        (minute < 60 && m <= 1440).then_some(TimeOfDay(m))
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }

    /// Parses `HH:MM` (two-digit hour and minute).
    pub fn parse(text: &str) -> Result<TimeOfDay, String> {
        let bad = || format!("invalid time {text:?}; write \"HH:MM\", 00:00 to 24:00");
        let (h, m) = text.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u8 = h.parse().map_err(|_| bad())?;
        let m: u8 = m.parse().map_err(|_| bad())?;
        TimeOfDay::new(h, m).ok_or_else(bad)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeOfDay::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A set of weekdays as a bitmask: bit 0 is Monday, bit 6 Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Weekdays {
    /// Every day of the week.
    pub const ALL: Weekdays = Weekdays(0x7f);
    /// Monday to Friday.
    pub const WORKDAYS: Weekdays = Weekdays(0x1f);
    /// No day.
    pub const NONE: Weekdays = Weekdays(0);

    /// The bitmask (bit 0 Monday … bit 6 Sunday).
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether the set includes `day`.
    pub fn contains(self, day: jiff::civil::Weekday) -> bool {
        self.0 & (1 << day.to_monday_zero_offset()) != 0
    }

    /// The days in both sets.
    pub fn intersect(self, other: Weekdays) -> Weekdays {
        Weekdays(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses a list of day names (`"mon"` … `"sun"`, any case).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Weekdays, String> {
        let mut bits = 0u8;
        for name in names {
            let name = name.as_ref();
            let i = DAY_NAMES
                .iter()
                .position(|d| d.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!("unknown day {name:?}; use mon, tue, wed, thu, fri, sat, sun")
                })?;
            bits |= 1 << i;
        }
        Ok(Weekdays(bits))
    }
}

impl Default for Weekdays {
    fn default() -> Self {
        Weekdays::ALL
    }
}

/// `every day`, `Mon–Fri`, `Sat, Sun`, `no day`.
impl fmt::Display for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Weekdays::ALL => return f.write_str("every day"),
            Weekdays::NONE => return f.write_str("no day"),
            _ => {}
        }
        let title = |i: usize| {
            let n = DAY_NAMES[i];
            format!("{}{}", n[..1].to_ascii_uppercase(), &n[1..])
        };
        // Runs of three or more consecutive days print as `Mon–Fri`.
        let mut parts = Vec::new();
        let mut i = 0;
        while i < 7 {
            if self.0 & (1 << i) == 0 {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < 7 && self.0 & (1 << (j + 1)) != 0 {
                j += 1;
            }
            match j - i {
                0 => parts.push(title(i)),
                1 => parts.extend([title(i), title(j)]),
                _ => parts.push(format!("{}–{}", title(i), title(j))),
            }
            i = j + 1;
        }
        f.write_str(&parts.join(", "))
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        Weekdays::from_names(&names).map_err(serde::de::Error::custom)
    }
}

/// One rule: open from `start` to `end` (local time in `[window] timezone`) on `days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowRule {
    /// Opening time, `"HH:MM"`.
    pub start: TimeOfDay,
    /// Closing time (exclusive), `"HH:MM"`, up to `"24:00"`; validated `start < end`.
    pub end: TimeOfDay,
    /// Days the rule is open on; default every day. Validated non-empty.
    #[serde(default)]
    pub days: Weekdays,
    /// Closed all day on `[window] holidays`; default false.
    #[serde(default)]
    pub closed_on_holidays: bool,
}

impl WindowRule {
    /// 09:00–20:00 every day, open on holidays: the service terms' default.
    pub const SERVICE_TERMS: WindowRule = WindowRule {
        start: TimeOfDay(9 * 60),
        end: TimeOfDay(20 * 60),
        days: Weekdays::ALL,
        closed_on_holidays: false,
    };

    /// Both rules at once: the later start, the earlier end, the common days, and closed on
    /// holidays if either is. The result may be empty ([`WindowRule::is_empty`]).
    pub fn intersect(&self, other: &WindowRule) -> WindowRule {
        WindowRule {
            start: self.start.max(other.start),
            end: self.end.min(other.end),
            days: self.days.intersect(other.days),
            closed_on_holidays: self.closed_on_holidays || other.closed_on_holidays,
        }
    }

    /// Whether the rule is never open.
    pub fn is_empty(&self) -> bool {
        self.start >= self.end || self.days.is_empty()
    }

    /// Whether the rule is open at local `time` on a day that is `weekday` and (maybe) a holiday.
    pub fn is_open_at(
        &self,
        weekday: jiff::civil::Weekday,
        minute_of_day: u16,
        holiday: bool,
    ) -> bool {
        self.days.contains(weekday)
            && !(holiday && self.closed_on_holidays)
            && self.start.0 <= minute_of_day
            && minute_of_day < self.end.0
    }
}

impl Default for WindowRule {
    fn default() -> Self {
        WindowRule::SERVICE_TERMS
    }
}

/// `09:00–20:00, every day` or `09:00–20:00, Mon–Fri, closed on holidays`.
impl fmt::Display for WindowRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}, {}", self.start, self.end, self.days)?;
        if self.closed_on_holidays {
            f.write_str(", closed on holidays")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Weekday;

    #[test]
    fn time_of_day_accepts_24_00_and_rejects_nonsense() {
        assert_eq!(TimeOfDay::parse("24:00").map(TimeOfDay::minutes), Ok(1440));
        assert_eq!(TimeOfDay::parse("09:30").map(TimeOfDay::minutes), Ok(570));
        for bad in ["24:01", "9:00", "09:60", "0900", "ab:cd"] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weekdays_print_runs_and_test_membership() {
        let d = Weekdays::from_names(&["mon", "TUE", "wed", "thu", "fri", "sun"]).unwrap();
        assert_eq!(d.to_string(), "Mon–Fri, Sun");
        assert!(d.contains(Weekday::Sunday) && !d.contains(Weekday::Saturday));
        assert_eq!(Weekdays::ALL.to_string(), "every day");
        assert!(Weekdays::from_names(&["funday"]).is_err());
    }

    #[test]
    fn intersection_narrows_and_can_be_empty() {
        let evening = WindowRule {
            start: TimeOfDay(18 * 60),
            end: TimeOfDay::END_OF_DAY,
            ..WindowRule::default()
        };
        let both = WindowRule::SERVICE_TERMS.intersect(&evening);
        assert_eq!(both.to_string(), "18:00–20:00, every day");
        let night = WindowRule {
            start: TimeOfDay(21 * 60),
            ..evening
        };
        assert!(WindowRule::SERVICE_TERMS.intersect(&night).is_empty());
    }

    #[test]
    fn open_at_respects_days_hours_and_holidays() {
        let r = WindowRule {
            days: Weekdays::WORKDAYS,
            closed_on_holidays: true,
            ..WindowRule::default()
        };
        assert!(r.is_open_at(Weekday::Monday, 9 * 60, false));
        assert!(!r.is_open_at(Weekday::Monday, 20 * 60, false));
        assert!(!r.is_open_at(Weekday::Monday, 10 * 60, true));
        assert!(!r.is_open_at(Weekday::Saturday, 10 * 60, false));
    }
}
