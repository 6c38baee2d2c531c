//! The engine's metric names, in one place, and their descriptions.
//!
//! Labels are low-cardinality only: operator, channel, result, reason. Never a phone number,
//! an account or a campaign.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

/// Dispatches the API accepted. Labels: channel.
pub const ACCEPTED: &str = "sendbox_dispatches_accepted_total";
/// Dispatches refused by policy before leaving. Labels: channel, reason.
pub const REJECTED: &str = "sendbox_dispatches_rejected_total";
/// Dispatches deferred to the next window opening. Labels: channel.
pub const DEFERRED: &str = "sendbox_dispatches_deferred_total";
/// Dispatches handed to an operator. Labels: operator, channel.
pub const HANDED_OFF: &str = "sendbox_dispatches_handed_off_total";
/// Dispatches that reached a final state. Labels: operator, channel, result.
pub const FINAL: &str = "sendbox_dispatches_final_total";
/// Dispatches put back for another try. Labels: operator, channel, reason.
pub const RETRIED: &str = "sendbox_dispatches_retried_total";
/// Dispatches waiting in an operator queue. Labels: operator, channel.
pub const QUEUE_DEPTH: &str = "sendbox_queue_depth";
/// Dispatches waiting for the window or a retry delay.
pub const DEFERRED_WAITING: &str = "sendbox_deferred_waiting";
/// Dispatches parked because their account ran out of money.
pub const FUNDS_PAUSED: &str = "sendbox_insufficient_funds_waiting";
/// Times a dispatch was parked for insufficient funds.
pub const FUNDS_PAUSES: &str = "sendbox_insufficient_funds_pauses_total";
/// Money debited, in tiyn. Labels: operator, channel.
pub const DEBITED: &str = "sendbox_debited_tiyn_total";
/// Acceptance to handoff. Labels: channel.
pub const ACCEPT_TO_HANDOFF: &str = "sendbox_accept_to_handoff_seconds";
/// Handoff to final outcome (SMS: submit to receipt). Labels: channel.
pub const HANDOFF_TO_FINAL: &str = "sendbox_handoff_to_final_seconds";
/// Current effective rate of an operator's shared limiter. Labels: operator, channel.
pub const OPERATOR_RATE: &str = "sendbox_operator_rate_per_second";
/// API requests refused because the queues were full.
pub const API_BACKPRESSURE: &str = "sendbox_api_backpressure_total";
/// Operator links up (binds for SMS, trunks for voice). Labels: operator, channel.
pub const LINKS_UP: &str = "sendbox_links_up";

/// Histogram buckets for latencies, in seconds: 1 ms to 1 day.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 3600.0, 86400.0,
];

/// Describe every engine metric (called once at start-up).
pub fn describe() {
    describe_counter!(ACCEPTED, Unit::Count, "Dispatches accepted by the API.");
    describe_counter!(REJECTED, Unit::Count, "Dispatches refused by policy.");
    describe_counter!(
        DEFERRED,
        Unit::Count,
        "Dispatches deferred to the next window opening."
    );
    describe_counter!(HANDED_OFF, Unit::Count, "Dispatches handed to an operator.");
    describe_counter!(FINAL, Unit::Count, "Dispatches that reached a final state.");
    describe_counter!(RETRIED, Unit::Count, "Dispatches put back for another try.");
    describe_gauge!(
        QUEUE_DEPTH,
        Unit::Count,
        "Dispatches waiting in an operator queue."
    );
    describe_gauge!(
        DEFERRED_WAITING,
        Unit::Count,
        "Dispatches waiting for the window or a retry."
    );
    describe_gauge!(
        FUNDS_PAUSED,
        Unit::Count,
        "Dispatches parked for insufficient funds."
    );
    describe_counter!(
        FUNDS_PAUSES,
        Unit::Count,
        "Dispatches parked for insufficient funds."
    );
    describe_counter!(DEBITED, Unit::Count, "Money debited, in tiyn.");
    describe_histogram!(
        ACCEPT_TO_HANDOFF,
        Unit::Seconds,
        "Acceptance to operator handoff."
    );
    describe_histogram!(
        HANDOFF_TO_FINAL,
        Unit::Seconds,
        "Operator handoff to final outcome."
    );
    describe_gauge!(
        OPERATOR_RATE,
        "Effective rate of an operator's shared limiter, per second."
    );
    describe_counter!(
        API_BACKPRESSURE,
        Unit::Count,
        "API requests refused with 429."
    );
    describe_gauge!(
        LINKS_UP,
        Unit::Count,
        "Operator links up: SMPP binds or SIP trunks."
    );
}
