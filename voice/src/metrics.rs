//! Metric names of the voice link, and [`describe`] which registers their descriptions.
//!
//! Labels are low-cardinality only: `operator` (the operator id) and `result` (a
//! [`sendbox_dispatch::FinalState`] name or `retry`).

/// Calls started (INVITE sent). Labels: operator.
pub const CALLS_STARTED_TOTAL: &str = "sendbox_voice_calls_started_total";
/// Calls ended. Labels: operator, result.
pub const CALLS_ENDED_TOTAL: &str = "sendbox_voice_calls_ended_total";
/// Calls in progress. Labels: operator.
pub const CALLS_ACTIVE: &str = "sendbox_voice_calls_active";
/// Time from INVITE to the first 180/183 or final response. Labels: operator.
pub const SETUP_SECONDS: &str = "sendbox_voice_setup_seconds";
/// SIP retransmissions sent (Timer A/E). Labels: operator.
pub const SIP_RETRANSMITS_TOTAL: &str = "sendbox_voice_sip_retransmits_total";
/// SIP datagrams from the trunk that did not parse or matched no call. Labels: operator.
pub const SIP_DROPPED_TOTAL: &str = "sendbox_voice_sip_dropped_total";
/// RTP packets sent. Emitted per pacer tick batch, not per packet.
pub const RTP_PACKETS_SENT_TOTAL: &str = "sendbox_voice_rtp_packets_sent_total";
/// RTP packets whose send failed (socket error). Emitted per batch.
pub const RTP_SEND_ERRORS_TOTAL: &str = "sendbox_voice_rtp_send_errors_total";
/// How late the pacer sent a batch against its 20 ms slot deadline.
pub const RTP_SEND_LAG_SECONDS: &str = "sendbox_voice_rtp_send_lag_seconds";
/// RTP packets sent more than 2 ms after their slot (counter).
pub const RTP_PACKETS_LATE_TOTAL: &str = "sendbox_voice_rtp_packets_late_total";
/// Engine-side RTP send timing since start, per packet over every pacer (gauge). Labels:
/// `measure` (`interval_deviation`: |gap between a stream's packets - 20 ms|; `lag`: send
/// time after the slot deadline) and `quantile` (`0.5`, `0.99`, `0.999`, `1` = maximum).
pub const RTP_SEND_TIMING_SECONDS: &str = "sendbox_voice_rtp_send_timing_seconds";
/// DTMF digits received.
pub const DTMF_DIGITS_TOTAL: &str = "sendbox_voice_dtmf_digits_total";

/// Describe every metric of this crate (call once at startup, after installing a recorder).
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        CALLS_STARTED_TOTAL,
        Unit::Count,
        "Calls started (INVITE sent)."
    );
    describe_counter!(CALLS_ENDED_TOTAL, Unit::Count, "Calls ended, by result.");
    describe_gauge!(CALLS_ACTIVE, Unit::Count, "Calls in progress.");
    describe_histogram!(
        SETUP_SECONDS,
        Unit::Seconds,
        "INVITE to first ring or final response."
    );
    describe_counter!(
        SIP_RETRANSMITS_TOTAL,
        Unit::Count,
        "SIP retransmissions sent."
    );
    describe_counter!(
        SIP_DROPPED_TOTAL,
        Unit::Count,
        "SIP datagrams dropped (unparsable or unmatched)."
    );
    describe_counter!(RTP_PACKETS_SENT_TOTAL, Unit::Count, "RTP packets sent.");
    describe_counter!(
        RTP_SEND_ERRORS_TOTAL,
        Unit::Count,
        "RTP packets whose send failed."
    );
    describe_histogram!(
        RTP_SEND_LAG_SECONDS,
        Unit::Seconds,
        "Pacer lateness against the slot deadline."
    );
    describe_gauge!(
        RTP_SEND_TIMING_SECONDS,
        Unit::Seconds,
        "RTP send-interval deviation and slot lag quantiles, per packet since start."
    );
    describe_counter!(DTMF_DIGITS_TOTAL, Unit::Count, "DTMF digits received.");
    describe_counter!(
        RTP_PACKETS_LATE_TOTAL,
        Unit::Count,
        "RTP packets sent more than 2 ms after their slot."
    );
}
