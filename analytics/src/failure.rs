//! Which outcomes are permanent failures of a number (it does not exist, the destination is
//! bad), and their reading in words.
//!
//! ```
//! use sendbox_analytics::failure::{describe_code, permanent_code};
//! use sendbox_dispatch::FinalState;
//! let code = permanent_code(FinalState::Undeliverable, Some("dlr:UNDELIV/err=001")).unwrap();
//! assert_eq!(describe_code(&code), "unknown subscriber");
//! assert_eq!(permanent_code(FinalState::Expired, None), None);
//! ```

use sendbox_dispatch::FinalState;

/// Whether a receipt's outcome is a permanent failure of the number, and its code.
pub fn permanent_code(state: FinalState, error: Option<&str>) -> Option<String> {
    let e = error.unwrap_or("");
    let lower = e.to_ascii_lowercase();
    match state {
        FinalState::InvalidNumber => Some(if e.is_empty() {
            "invalid_number".into()
        } else {
            e.into()
        }),
        FinalState::Undeliverable => Some(if e.is_empty() {
            "undeliverable".into()
        } else {
            e.into()
        }),
        FinalState::Rejected
            if lower.contains("0x0000000b")
                || lower.ends_with("err=0x0b")
                || lower.ends_with("err=00b") =>
        {
            Some(e.into())
        }
        _ => None,
    }
}

/// A human reading of a permanent failure code.
pub fn describe_code(code: &str) -> &'static str {
    let c = code.to_ascii_lowercase();
    if c.contains("err=001") || c.contains("err=1") || c == "sip:404" || c.contains("unknown") {
        "unknown subscriber"
    } else if c.contains("0b") || c == "sip:484" || c.contains("invalid") {
        "bad destination"
    } else {
        "undeliverable"
    }
}
