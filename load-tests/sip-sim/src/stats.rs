//! The simulator's counters and per-call records, as returned by [`crate::SimHandle::stats`].

use std::time::Duration;

use serde::Serialize;

/// How a call ended, from the simulator's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallResult {
    /// 200 OK was sent.
    Answered,
    /// A busy-class final response (486/600/603).
    Busy(u16),
    /// Another final failure response (404, 480, 488, 503, ...).
    Rejected(u16),
    /// The caller sent CANCEL before the answer (487 sent).
    Cancelled,
    /// The caller's credentials were wrong (403 sent).
    AuthFailed,
}

/// Who ended an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hangup {
    /// The caller sent BYE.
    Caller,
    /// The simulator sent BYE (`hangup_after`).
    Simulator,
    /// No ACK arrived for the 200 OK (Timer H).
    AckTimeout,
    /// The simulator shut down with the call up.
    Shutdown,
}

/// One finished call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// Request-URI user (the dialed number).
    pub number: String,
    /// SIP outcome.
    pub result: CallResult,
    /// For answered calls, who hung up.
    pub hangup: Option<Hangup>,
    /// RTP packets received (audio + telephone-event + duplicates).
    pub rtp_packets: u64,
    /// Packets missing from the received sequence range.
    pub rtp_lost: u64,
    /// Telephone-event packets received from the caller.
    pub dtmf_packets: u64,
    /// The first RTP packet had the marker bit set.
    pub first_marker_seen: bool,
    /// Payload type of the caller's audio.
    pub payload_type: Option<u8>,
    /// No loss, duplicates or reordering.
    pub seq_ok: bool,
    /// Every timestamp step matched the packetisation time.
    pub ts_ok: bool,
    /// RFC 3550 interarrival jitter at the end of the call, in ms.
    pub jitter_ms: f64,
    /// From INVITE to the end of the call.
    #[serde(with = "millis")]
    pub duration: Duration,
}

/// Percentiles of the inter-arrival deviation from the packetisation time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeviationSummary {
    /// Samples recorded.
    pub count: u64,
    /// Median deviation in µs.
    pub p50_us: u64,
    /// 99th percentile in µs.
    pub p99_us: u64,
    /// 99.9th percentile in µs.
    pub p999_us: u64,
    /// Largest deviation in µs.
    pub max_us: u64,
}

/// A snapshot of everything the simulator has counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimStats {
    /// New INVITE dialogs (retries after a challenge are not counted again).
    pub calls_received: u64,
    /// Calls answered with 200 OK.
    pub answered: u64,
    /// Calls ended with a busy-class response.
    pub busy: u64,
    /// Calls ended with another failure response.
    pub rejected: u64,
    /// Calls cancelled by the caller before answer.
    pub cancelled: u64,
    /// 401/407 challenges sent.
    pub challenged: u64,
    /// Authorization headers that failed verification (403 sent).
    pub auth_failures: u64,
    /// BYEs received from callers.
    pub byes_received: u64,
    /// BYEs sent by the simulator.
    pub byes_sent: u64,
    /// OPTIONS answered.
    pub options: u64,
    /// Final responses never acknowledged (Timer H fired).
    pub ack_timeouts: u64,
    /// Datagrams on the SIP port that were not SIP.
    pub sip_parse_errors: u64,
    /// Calls in progress right now.
    pub active_calls: u64,
    /// RTP packets received on all calls.
    pub rtp_packets: u64,
    /// RTP packets missing (finished and live calls).
    pub rtp_lost: u64,
    /// Duplicate RTP packets.
    pub rtp_duplicates: u64,
    /// RTP-port datagrams from an address no call expects, or that are not RTP.
    pub rtp_unmatched: u64,
    /// Consecutive audio packets whose arrival gap deviated from ptime by more than 2 ms.
    pub rtp_late_over_2ms: u64,
    /// ... by more than 10 ms.
    pub rtp_late_over_10ms: u64,
    /// Inter-arrival deviation from ptime, over all calls.
    pub interarrival: DeviationSummary,
    /// Largest per-call RFC 3550 jitter seen at call end, in ms.
    pub jitter_max_ms: f64,
    /// The most recent finished calls (bounded; see `per_call_dropped`).
    pub per_call: Vec<CallRecord>,
    /// Records not kept because `per_call` was full.
    pub per_call_dropped: u64,
}

impl SimStats {
    /// The record of the first finished call to `number`, if any.
    pub fn call(&self, number: &str) -> Option<&CallRecord> {
        self.per_call.iter().find(|r| r.number == number)
    }
}

mod millis {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}
