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

/// Every second until the engine stops: queue depths, operator rates, deferred dispatches and
/// links up, which are states rather than events.
pub fn spawn_sampler(app: &std::sync::Arc<crate::app::App>) {
    let weak = std::sync::Arc::downgrade(app);
    let stop = app.shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = stop.cancelled() => return,
            }
            let Some(app) = weak.upgrade() else { return };
            sample(&app);
        }
    });
}

fn sample(app: &crate::app::App) {
    let tables = app.core.tables.load();
    metrics::gauge!(DEFERRED_WAITING).set(app.core.deferred_len() as f64);
    for (i, name) in tables.operators.iter().enumerate() {
        for (ci, ch) in ["sms", "voice"].into_iter().enumerate() {
            let depth = app.core.queues[i][ci].len() as f64;
            metrics::gauge!(QUEUE_DEPTH, "operator" => name.to_string(), "channel" => ch)
                .set(depth);
        }
    }
    for o in app.links.operators.lock().iter() {
        let name = o.name.clone();
        if let Some(s) = &o.sms {
            metrics::gauge!(OPERATOR_RATE, "operator" => name.clone(), "channel" => "sms")
                .set(o.sms_limiter.rate());
            metrics::gauge!(LINKS_UP, "operator" => name.clone(), "channel" => "sms")
                .set(s.binds_up() as f64);
        }
        if let Some(v) = &o.voice {
            metrics::gauge!(OPERATOR_RATE, "operator" => name.clone(), "channel" => "voice")
                .set(o.call_limiter.rate());
            metrics::gauge!(LINKS_UP, "operator" => name, "channel" => "voice").set(if v.up() {
                1.0
            } else {
                0.0
            });
        }
    }
}

/// A failure's class for the `error` label: a few known SMPP statuses by name, SIP by class,
/// receipts by state, else `other`. Never the raw text (it could carry anything).
pub fn error_class(error: Option<&str>) -> &'static str {
    let Some(e) = error else { return "none" };
    if let Some(code) = e.strip_prefix("smpp:0x") {
        return match u32::from_str_radix(code.get(..8).unwrap_or(code), 16) {
            Ok(0x0B) => "smpp_invalid_destination",
            Ok(0x0A) => "smpp_invalid_source",
            Ok(0x08) => "smpp_system_error",
            Ok(0x14) => "smpp_queue_full",
            Ok(0x45) => "smpp_submit_failed",
            Ok(0x58) => "smpp_throttled",
            Ok(_) => "smpp_other",
            Err(_) => "smpp_other",
        };
    }
    if e.starts_with("smpp:") {
        return "smpp_other";
    }
    if let Some(code) = e.strip_prefix("sip:") {
        return match code.as_bytes().first() {
            Some(b'4') => "sip_4xx",
            Some(b'5') => "sip_5xx",
            Some(b'6') => "sip_6xx",
            _ => "sip_other",
        };
    }
    if let Some(state) = e.strip_prefix("dlr:") {
        return match state.split('/').next().unwrap_or("") {
            "UNDELIV" => "dlr_undeliverable",
            "EXPIRED" => "dlr_expired",
            "REJECTD" => "dlr_rejected",
            "DELETED" => "dlr_deleted",
            _ => "dlr_other",
        };
    }
    "other"
}

#[cfg(test)]
mod tests {
    use super::error_class;

    #[test]
    fn error_classes_are_a_small_fixed_set() {
        assert_eq!(
            error_class(Some("smpp:0x0000000B")),
            "smpp_invalid_destination"
        );
        assert_eq!(error_class(Some("sip:486")), "sip_4xx");
        assert_eq!(
            error_class(Some("dlr:UNDELIV/err=034")),
            "dlr_undeliverable"
        );
        assert_eq!(
            error_class(Some("smpp:shutdown with 1 of 2 parts accepted")),
            "smpp_other"
        );
        assert_eq!(error_class(Some("77011234567")), "other");
        assert_eq!(error_class(None), "none");
    }
}
