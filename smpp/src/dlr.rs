//! Delivery receipts: the message state, the text form, and message-id normalisation.
//!
//! The text form is vendor-specific (SMPP 3.4 Appendix B):
//! `id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...`.
//! Seen variants are accepted: 12-digit dates, `sub`/`dlvrd` missing, keys in any case
//! (`Text:`), extra blanks, unknown keys.
//!
//! ```
//! use sendbox_smpp::dlr::{parse_text, Stat};
//! let r = parse_text(b"id:0A1B sub:001 dlvrd:001 submit date:2511251200 done date:2511251201 stat:DELIVRD err:000 Text:Hello").unwrap();
//! assert_eq!(r.id, b"0A1B");
//! assert_eq!(r.stat, Stat::Delivered);
//! ```

use crate::config::IdBase;
use sendbox_dispatch::FinalState;

/// The state of a message in a receipt (`message_state` values; `stat` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// 0 SCHEDULED (5.0).
    Scheduled,
    /// 1 ENROUTE.
    Enroute,
    /// 2 DELIVRD.
    Delivered,
    /// 3 EXPIRED.
    Expired,
    /// 4 DELETED.
    Deleted,
    /// 5 UNDELIV.
    Undeliverable,
    /// 6 ACCEPTD.
    Accepted,
    /// 7 UNKNOWN (also any word we do not know).
    Unknown,
    /// 8 REJECTD.
    Rejected,
    /// 9 SKIPPED (5.0).
    Skipped,
}

impl Stat {
    /// From the `message_state` TLV.
    pub fn from_state(v: u8) -> Stat {
        match v {
            0 => Stat::Scheduled,
            1 => Stat::Enroute,
            2 => Stat::Delivered,
            3 => Stat::Expired,
            4 => Stat::Deleted,
            5 => Stat::Undeliverable,
            6 => Stat::Accepted,
            8 => Stat::Rejected,
            9 => Stat::Skipped,
            _ => Stat::Unknown,
        }
    }

    /// From the `stat:` word (case-insensitive; full names accepted too).
    pub fn from_word(w: &[u8]) -> Stat {
        let mut buf = [0u8; 16];
        let n = w.len().min(16);
        buf[..n].copy_from_slice(&w[..n]);
        buf[..n].make_ascii_uppercase();
        match &buf[..n] {
            b"DELIVRD" | b"DELIVERED" => Stat::Delivered,
            b"EXPIRED" => Stat::Expired,
            b"DELETED" => Stat::Deleted,
            b"UNDELIV" | b"UNDELIVERABLE" => Stat::Undeliverable,
            b"ACCEPTD" | b"ACCEPTED" => Stat::Accepted,
            b"REJECTD" | b"REJECTED" => Stat::Rejected,
            b"ENROUTE" => Stat::Enroute,
            b"SCHEDULED" => Stat::Scheduled,
            b"SKIPPED" => Stat::Skipped,
            _ => Stat::Unknown,
        }
    }

    /// The `stat` word.
    pub fn word(self) -> &'static str {
        match self {
            Stat::Scheduled => "SCHEDULED",
            Stat::Enroute => "ENROUTE",
            Stat::Delivered => "DELIVRD",
            Stat::Expired => "EXPIRED",
            Stat::Deleted => "DELETED",
            Stat::Undeliverable => "UNDELIV",
            Stat::Accepted => "ACCEPTD",
            Stat::Unknown => "UNKNOWN",
            Stat::Rejected => "REJECTD",
            Stat::Skipped => "SKIPPED",
        }
    }

    /// The final state this receipt gives the part, or `None` while the message is still on its
    /// way. ACCEPTD (read on the subscriber's behalf) is treated as not yet final: a later
    /// receipt, or the receipt timeout, decides.
    pub fn final_state(self) -> Option<FinalState> {
        match self {
            Stat::Scheduled | Stat::Enroute | Stat::Accepted => None,
            Stat::Delivered => Some(FinalState::Delivered),
            Stat::Expired => Some(FinalState::Expired),
            Stat::Deleted | Stat::Undeliverable | Stat::Unknown => Some(FinalState::Undeliverable),
            Stat::Rejected | Stat::Skipped => Some(FinalState::Rejected),
        }
    }
}

/// A receipt read from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextReceipt<'a> {
    /// `id:`.
    pub id: &'a [u8],
    /// `stat:`.
    pub stat: Stat,
    /// `err:` (empty when missing).
    pub err: &'a [u8],
    /// `submit date:` digits (10 or 12), empty when missing.
    pub submit_date: &'a [u8],
    /// `done date:` digits (10 or 12), empty when missing.
    pub done_date: &'a [u8],
}

/// A receipt text we could not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DlrError {
    /// No `id:` field.
    #[error("receipt text has no id: field")]
    MissingId,
    /// No `stat:` field.
    #[error("receipt text has no stat: field")]
    MissingStat,
}

/// Reads the text form of a receipt.
pub fn parse_text(text: &[u8]) -> Result<TextReceipt<'_>, DlrError> {
    // The free text comes last and may contain anything: cut it off first.
    let head = match find_ci(text, b"text:") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut r = TextReceipt {
        id: b"",
        stat: Stat::Unknown,
        err: b"",
        submit_date: b"",
        done_date: b"",
    };
    let (mut has_id, mut has_stat) = (false, false);
    let mut prev: &[u8] = b"";
    for tok in head
        .split(|c| c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
    {
        if let Some(colon) = tok.iter().position(|&c| c == b':') {
            let (key, value) = (&tok[..colon], &tok[colon + 1..]);
            if key.eq_ignore_ascii_case(b"id") {
                r.id = value;
                has_id = true;
            } else if key.eq_ignore_ascii_case(b"stat") {
                r.stat = Stat::from_word(value);
                has_stat = true;
            } else if key.eq_ignore_ascii_case(b"err") {
                r.err = value;
            } else if key.eq_ignore_ascii_case(b"date") && prev.eq_ignore_ascii_case(b"submit") {
                r.submit_date = value;
            } else if key.eq_ignore_ascii_case(b"date") && prev.eq_ignore_ascii_case(b"done") {
                r.done_date = value;
            }
        }
        prev = tok;
    }
    if !has_id || r.id.is_empty() {
        return Err(DlrError::MissingId);
    }
    if !has_stat {
        return Err(DlrError::MissingStat);
    }
    Ok(r)
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// A normalised message id: the key receipts are matched on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MsgKey {
    /// A numeric id (decimal or hexadecimal as configured).
    Num(u64),
    /// A short text id, lower-cased, held inline.
    Inline(u8, [u8; 22]),
    /// A longer text id.
    Heap(Box<[u8]>),
}

impl MsgKey {
    /// Normalises `raw` written in `base`: blanks trimmed; text lower-cased; numbers parsed
    /// (leading zeros ignored). A number that does not parse is kept as text.
    pub fn new(raw: &[u8], base: IdBase) -> MsgKey {
        let raw = raw.trim_ascii();
        let radix = match base {
            IdBase::Text => None,
            IdBase::Decimal => Some(10),
            IdBase::Hex => Some(16),
        };
        if let Some(radix) = radix
            && let Some(n) = std::str::from_utf8(raw)
                .ok()
                .and_then(|s| u64::from_str_radix(s, radix).ok())
        {
            return MsgKey::Num(n);
        }
        if raw.len() <= 22 {
            let mut b = [0u8; 22];
            b[..raw.len()].copy_from_slice(raw);
            b.make_ascii_lowercase();
            MsgKey::Inline(raw.len() as u8, b)
        } else {
            MsgKey::Heap(raw.to_ascii_lowercase().into_boxed_slice())
        }
    }
}

#[cfg(test)]
#[path = "dlr_tests.rs"]
mod tests;
