//! Metric names emitted by the simulator (per finished call, never per packet).

/// Finished calls, labelled `result` (answered, busy, rejected, cancelled, auth_failed).
pub const CALLS_TOTAL: &str = "sendbox_sipsim_calls_total";
/// RTP packets received on finished calls.
pub const RTP_PACKETS_TOTAL: &str = "sendbox_sipsim_rtp_packets_total";
/// RTP packets lost on finished calls.
pub const RTP_LOST_TOTAL: &str = "sendbox_sipsim_rtp_lost_total";
/// Digest challenges sent.
pub const CHALLENGES_TOTAL: &str = "sendbox_sipsim_challenges_total";

/// Describe every metric above to the installed recorder.
pub fn describe() {
    metrics::describe_counter!(
        CALLS_TOTAL,
        "Calls finished by the SIP simulator, by result."
    );
    metrics::describe_counter!(
        RTP_PACKETS_TOTAL,
        "RTP packets the SIP simulator received on finished calls."
    );
    metrics::describe_counter!(
        RTP_LOST_TOTAL,
        "RTP packets missing on calls finished by the SIP simulator."
    );
    metrics::describe_counter!(
        CHALLENGES_TOTAL,
        "Digest challenges (401/407) sent by the SIP simulator."
    );
}
