//! `[accounts.<id>]` (API customers) and `[tariffs.<operator>]` (what each dispatch costs).
//!
//! Money is integer tiyn: 1 KZT = 100 tiyn.
//!
//! ```
//! use sendbox_config::Tariff;
//! let t = Tariff { sms_segment_tiyn: Some(1200), call_attempt_tiyn: Some(500),
//!                  call_second_tiyn: Some(30), billing_increment_seconds: 6 };
//! // 7 answered seconds bill as 12 (two 6-second increments): 500 + 12 × 30.
//! assert_eq!(t.call_tiyn(7), 860);
//! assert_eq!(t.sms_tiyn(3), 3600);
//! ```

use crate::{Class, TokenHash, WindowRule};
use serde::Deserialize;
use std::path::PathBuf;

/// One API customer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The table key (`acme` in `[accounts.acme]`), filled at load.
    #[serde(skip)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the account's API token, 64 hex digits (lower-cased at load).
    pub token_sha256: TokenHash,
    /// Balance credited when the store first sees this account, in tiyn (default 0).
    #[serde(default)]
    pub opening_balance_tiyn: u64,
    /// A narrower calling window for this account's traffic.
    pub window: Option<WindowRule>,
    /// This account's own blacklist file (resolved against the config directory; must exist).
    pub blacklist: Option<PathBuf>,
    /// Sender ids this account may use; absent means any.
    pub senders: Option<Vec<String>>,
    /// Traffic classes this account may submit; absent means all.
    pub classes: Option<Vec<Class>>,
}

impl AccountConfig {
    /// Whether the account may send as `sender`.
    pub fn allows_sender(&self, sender: &str) -> bool {
        self.senders
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == sender))
    }

    /// Whether the account may submit `class` traffic.
    pub fn allows_class(&self, class: Class) -> bool {
        self.classes.as_ref().is_none_or(|c| c.contains(&class))
    }
}

/// `[tariffs.<operator_id>]`: prices for one operator, in tiyn. Every operator has one; the
/// SMS price is required if it has SMPP, the call prices if it has SIP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// Price of one SMS segment (each submit_sm).
    pub sms_segment_tiyn: Option<u64>,
    /// Price of one call attempt, answered or not.
    pub call_attempt_tiyn: Option<u64>,
    /// Price of one answered second.
    pub call_second_tiyn: Option<u64>,
    /// Answered time is rounded up to a multiple of this (default 1, at least 1).
    #[serde(default = "one")]
    pub billing_increment_seconds: u32,
}

impl Tariff {
    /// Price of an SMS of `segments` segments.
    pub fn sms_tiyn(&self, segments: u32) -> u64 {
        self.sms_segment_tiyn
            .unwrap_or(0)
            .saturating_mul(u64::from(segments))
    }

    /// Price of one call attempt that was answered for `answered_seconds` (0 if unanswered):
    /// the attempt price plus the answered time, rounded up to the billing increment.
    pub fn call_tiyn(&self, answered_seconds: u32) -> u64 {
        let inc = u64::from(self.billing_increment_seconds.max(1));
        let billed = u64::from(answered_seconds).div_ceil(inc) * inc;
        let per_second = self.call_second_tiyn.unwrap_or(0);
        self.call_attempt_tiyn
            .unwrap_or(0)
            .saturating_add(billed.saturating_mul(per_second))
    }
}

/// Tiyn as KZT for display: `1234.56 KZT`.
pub fn kzt(tiyn: u64) -> String {
    format!("{}.{:02} KZT", tiyn / 100, tiyn % 100)
}

fn one() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unanswered_call_costs_only_the_attempt() {
        let t = Tariff {
            sms_segment_tiyn: None,
            call_attempt_tiyn: Some(100),
            call_second_tiyn: Some(10),
            billing_increment_seconds: 60,
        };
        assert_eq!(t.call_tiyn(0), 100);
        assert_eq!(t.call_tiyn(1), 100 + 600);
        assert_eq!(t.call_tiyn(60), 100 + 600);
        assert_eq!(t.call_tiyn(61), 100 + 1200);
    }

    #[test]
    fn kzt_shows_tiyn_as_two_decimals() {
        assert_eq!(kzt(123_456), "1234.56 KZT");
        assert_eq!(kzt(5), "0.05 KZT");
    }
}
