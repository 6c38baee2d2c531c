//! What a submit's `command_status` means for the dispatch (domain.md §3).
//!
//! ```
//! use sendbox_smpp::status::{classify, StatusClass};
//! assert_eq!(classify(0x58), StatusClass::Throttled);
//! assert_eq!(classify(0x0B), StatusClass::Permanent);
//! ```

/// How a submit_sm status is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// ESME_ROK: accepted.
    Ok,
    /// ESME_RTHROTTLED (0x58), ESME_RMSGQFUL (0x14): pause, slow the operator, resend the same
    /// part without counting a retry.
    Throttled,
    /// Retry with backoff, up to the retry limit (ESME_RSYSERR 0x08, ESME_RX_T_APPN 0x64,
    /// bind-state errors, anything unknown).
    Temporary,
    /// Retry once, then fail (ESME_RSUBMITFAIL 0x45, ESME_RUNKNOWNERR 0xFF).
    RetryOnce,
    /// The message can never be accepted as it is (bad source or destination address, bad
    /// parameters, ESME_RX_P_APPN / ESME_RX_R_APPN, TLV errors).
    Permanent,
}

/// Classifies a submit_sm_resp (or generic_nack) status.
pub fn classify(status: u32) -> StatusClass {
    match status {
        0x00 => StatusClass::Ok,
        0x14 | 0x58 => StatusClass::Throttled,
        0x45 | 0xFF => StatusClass::RetryOnce,
        // invalid message/command length, command id; priority, registered delivery, ESM
        // class; source/destination address; service type; replace flag; message too long
        0x01..=0x03
        | 0x06
        | 0x07
        | 0x0A..=0x0C
        | 0x15
        | 0x42..=0x44
        | 0x48..=0x51
        | 0x61
        | 0x62 => StatusClass::Permanent,
        0x65 | 0x66 | 0xC0..=0xC4 => StatusClass::Permanent,
        _ => StatusClass::Temporary,
    }
}

/// A status as it appears in outcomes: `smpp:0x0000000B`.
pub fn error_code(status: u32) -> String {
    format!("smpp:0x{status:08X}")
}

/// A readable name for the statuses a bind can fail with.
pub fn bind_error_name(status: u32) -> &'static str {
    match status {
        0x04 => "ESME_RINVBNDSTS (incorrect bind status)",
        0x05 => "ESME_RALYBND (already bound: too many binds for this system_id?)",
        0x0D => "ESME_RBINDFAIL (bind failed)",
        0x0E => "ESME_RINVPASWD (bad password)",
        0x0F => "ESME_RINVSYSID (bad system_id)",
        0x08 => "ESME_RSYSERR (system error)",
        0x58 => "ESME_RTHROTTLED (throttled)",
        _ => "bind refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_table_classes() {
        assert_eq!(classify(0x00), StatusClass::Ok);
        assert_eq!(classify(0x14), StatusClass::Throttled);
        assert_eq!(classify(0x08), StatusClass::Temporary);
        assert_eq!(classify(0x64), StatusClass::Temporary);
        assert_eq!(classify(0x45), StatusClass::RetryOnce);
        assert_eq!(classify(0xFF), StatusClass::RetryOnce);
        for s in [0x0A, 0x0B, 0x65, 0x66, 0xC0, 0xC4] {
            assert_eq!(classify(s), StatusClass::Permanent, "{s:#x}");
        }
        assert_eq!(error_code(0x0B), "smpp:0x0000000B");
    }
}
