//! Metric names of the SMPP link, and [`describe`] to register their help texts.
//!
//! Labels: `operator` (the operator's name), `bind` (its index), `result` or `state` (a small
//! fixed set). Never a phone number or an account. Drivers resolve their counters once and
//! increment handles in the hot path.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

/// submit_sm responses by result: `ok`, `throttled`, `temporary`, `permanent`, `timeout`.
pub const SUBMITS_TOTAL: &str = "sendbox_smpp_submits_total";
/// Delivery receipts by state: `delivered`, `undeliverable`, `expired`, `rejected`,
/// `intermediate`, `orphan`, `unparsable`.
pub const RECEIPTS_TOTAL: &str = "sendbox_smpp_receipts_total";
/// Incoming (mobile-originated) messages.
pub const INBOUND_TOTAL: &str = "sendbox_smpp_inbound_total";
/// PDUs from the SMSC that could not be read (answered and skipped).
pub const MALFORMED_TOTAL: &str = "sendbox_smpp_malformed_pdus_total";

/// Bind attempts that failed, by reason: `connect`, `rejected`, `timeout`.
pub const BIND_FAILURES_TOTAL: &str = "sendbox_smpp_bind_failures_total";
/// Sessions that ended, by reason.
pub const SESSIONS_CLOSED_TOTAL: &str = "sendbox_smpp_sessions_closed_total";
/// Binds up now.
pub const BINDS_UP: &str = "sendbox_smpp_binds_up";
/// submit_sm to its submit_sm_resp, seconds (histogram). Labels: operator.
pub const SUBMIT_RESPONSE_SECONDS: &str = "sendbox_smpp_submit_response_seconds";
/// Submits sent and not yet answered, per bind (gauge). Labels: operator, bind.
pub const WINDOW_IN_FLIGHT: &str = "sendbox_smpp_window_in_flight";

/// Describes every metric above (call once at startup, after installing the recorder).
pub fn describe() {
    describe_counter!(SUBMITS_TOTAL, Unit::Count, "submit_sm responses by result");
    describe_counter!(
        RECEIPTS_TOTAL,
        Unit::Count,
        "delivery receipts by final state"
    );
    describe_counter!(
        INBOUND_TOTAL,
        Unit::Count,
        "incoming SMS received over SMPP"
    );
    describe_counter!(
        MALFORMED_TOTAL,
        Unit::Count,
        "unreadable PDUs from the SMSC (answered, skipped)"
    );
    describe_counter!(
        BIND_FAILURES_TOTAL,
        Unit::Count,
        "failed connect or bind attempts by reason"
    );
    describe_counter!(
        SESSIONS_CLOSED_TOTAL,
        Unit::Count,
        "SMPP sessions that ended, by reason"
    );
    describe_gauge!(BINDS_UP, Unit::Count, "SMPP binds currently bound");
    describe_histogram!(
        SUBMIT_RESPONSE_SECONDS,
        Unit::Seconds,
        "submit_sm to its submit_sm_resp"
    );
    describe_gauge!(
        WINDOW_IN_FLIGHT,
        Unit::Count,
        "submits sent and not yet answered, per bind"
    );
}
