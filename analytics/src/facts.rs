//! What the history knows about one number: counts, last times, and when it responds.
//!
//! ```
//! let f = sendbox_analytics::facts::Facts { calls: 5, calls_answered: 4, ..Default::default() };
//! assert_eq!((f.attempts(), f.reached()), (5, 4));
//! ```

use serde::Serialize;

/// What the history knows about one number (optionally for one account, before a time).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    /// SMS sent with a final outcome (delivered or not, permanent failures included).
    pub sms_sent: u32,
    /// SMS delivered.
    pub sms_delivered: u32,
    /// Calls placed with a final outcome.
    pub calls: u32,
    /// Calls answered.
    pub calls_answered: u32,
    /// Answered calls where at least 90% of the prompt was heard.
    pub heard_to_end: u32,
    /// Sum of the heard fractions of answered calls (for the mean).
    pub heard_fraction_sum: f64,
    /// Answered calls where a key was pressed (or DTMF feedback).
    pub key_presses: u32,
    /// SMS replies.
    pub replies: u32,
    /// Permanent failures (unknown subscriber, bad destination).
    pub permanent_failures: u32,
    /// Last delivery or answer, Unix seconds.
    pub last_reached: Option<i64>,
    /// Last SMS delivered, Unix seconds.
    pub last_delivered: Option<i64>,
    /// Last answered call, Unix seconds.
    pub last_answered: Option<i64>,
    /// Last permanent failure: Unix seconds and its code (filled by [`crate::history::History::facts`]).
    pub last_permanent_failure: Option<(i64, String)>,
    /// Last attempt of any kind, Unix seconds.
    pub last_attempt: Option<i64>,
    /// Engagements (delivery, answer, key, reply) by part of the local day:
    /// morning (6-12), afternoon (12-18), evening (18-24), night (0-6).
    pub engaged_by_daypart: [u32; 4],
    /// The operator of the latest attempt (filled by [`crate::history::History::facts`]).
    pub operator: Option<String>,
    /// The operator of the latest attempt, by [`crate::history::History::operators`] index.
    #[serde(skip)]
    pub operator_idx: Option<u16>,
    /// The last permanent failure with its code's [`crate::history::History::codes`] index.
    #[serde(skip)]
    pub permanent_code_idx: Option<(i64, u16)>,
}

impl Facts {
    /// SMS plus calls with a final outcome.
    pub fn attempts(&self) -> u32 {
        self.sms_sent + self.calls
    }

    /// Deliveries plus answers.
    pub fn reached(&self) -> u32 {
        self.sms_delivered + self.calls_answered
    }
}
