//! Shared state between the SIP driver task and [`crate::SimHandle`]: counters, finished-call
//! records and the RTP receivers.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::call::{Count, Output};
use crate::dtmf::DigitJob;
use crate::rtp_meter::RtpMeter;
use crate::rtp_rx::RtpPool;
use crate::stats::{CallRecord, CallResult, Hangup, SimStats};

#[derive(Debug)]
pub(crate) struct Shared {
    tally: Mutex<Tally>,
    rtp: RtpPool,
}

#[derive(Debug)]
struct Tally {
    stats: SimStats,
    records: VecDeque<CallRecord>,
    max_records: usize,
}

impl Tally {
    pub(crate) fn new(max_records: usize) -> Self {
        Self {
            stats: SimStats::default(),
            records: VecDeque::new(),
            max_records,
        }
    }
}

/// How long RTP is still counted after a call ends, so packets racing the BYE are not lost.
pub(crate) const MEDIA_GRACE: Duration = Duration::from_millis(60);

impl Shared {
    pub(crate) fn new(max_records: usize, rtp: RtpPool) -> Self {
        Self {
            tally: Mutex::new(Tally::new(max_records)),
            rtp,
        }
    }

    /// Counters, records and RTP totals right now.
    pub(crate) fn snapshot(&self) -> SimStats {
        let mut s = {
            let t = self.tally.lock();
            let mut s = t.stats.clone();
            s.per_call = t.records.iter().cloned().collect();
            s
        };
        self.rtp.fill(&mut s);
        s
    }

    pub(crate) fn on_output(self: &Arc<Self>, out: Output) {
        match out {
            Output::Transmit(..) => {}
            Output::Count(c) => {
                let mut t = self.tally.lock();
                let s = &mut t.stats;
                match c {
                    Count::CallReceived => s.calls_received += 1,
                    Count::Answered => {
                        s.answered += 1;
                        s.active_calls += 1;
                    }
                    Count::Challenged => {
                        s.challenged += 1;
                        metrics::counter!(crate::metrics::CHALLENGES_TOTAL).increment(1);
                    }
                    Count::AuthFailure => s.auth_failures += 1,
                    Count::ByeReceived => s.byes_received += 1,
                    Count::ByeSent => s.byes_sent += 1,
                    Count::Options => s.options += 1,
                    Count::AckTimeout => s.ack_timeouts += 1,
                    Count::ParseError => s.sip_parse_errors += 1,
                }
            }
            Output::MediaStart {
                idx,
                remote,
                ptime_ms,
                dtmf_pt,
            } => {
                self.rtp.register(
                    idx,
                    remote,
                    RtpMeter::new(Duration::from_millis(u64::from(ptime_ms)), dtmf_pt),
                );
            }
            Output::Dtmf {
                idx,
                remote,
                pt,
                event,
                ssrc,
                seq,
                timestamp,
            } => {
                let job = DigitJob {
                    socket: self.rtp.socket(idx),
                    to: remote,
                    pt,
                    event,
                    ssrc,
                    seq,
                    timestamp,
                };
                tokio::spawn(job.run());
            }
            Output::CallEnded {
                number,
                result,
                hangup,
                media: None,
                duration,
            } => self.on_call_ended(number, result, hangup, None, duration),
            Output::CallEnded {
                number,
                result,
                hangup,
                media,
                duration,
            } => {
                let shared = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(MEDIA_GRACE).await;
                    shared.on_call_ended(number, result, hangup, media, duration);
                });
            }
        }
    }

    fn on_call_ended(
        &self,
        number: String,
        result: CallResult,
        hangup: Option<Hangup>,
        media: Option<(usize, SocketAddr)>,
        duration: Duration,
    ) {
        let meter = media.and_then(|(idx, remote)| self.rtp.unregister(idx, remote));
        let m = meter.as_ref();
        let record = CallRecord {
            number,
            result,
            hangup,
            rtp_packets: m.map_or(0, |m| m.packets),
            rtp_lost: m.map_or(0, RtpMeter::lost),
            dtmf_packets: m.map_or(0, |m| m.dtmf_packets),
            first_marker_seen: m.is_some_and(|m| m.first_marker_seen),
            payload_type: m.and_then(|m| m.payload_type),
            seq_ok: m.is_none_or(RtpMeter::seq_ok),
            ts_ok: m.is_none_or(|m| m.ts_errors == 0),
            jitter_ms: m.map_or(0.0, RtpMeter::jitter_ms),
            duration,
        };
        let label = match result {
            CallResult::Answered => "answered",
            CallResult::Busy(_) => "busy",
            CallResult::Rejected(_) => "rejected",
            CallResult::Cancelled => "cancelled",
            CallResult::AuthFailed => "auth_failed",
        };
        metrics::counter!(crate::metrics::CALLS_TOTAL, "result" => label).increment(1);
        metrics::counter!(crate::metrics::RTP_PACKETS_TOTAL).increment(record.rtp_packets);
        metrics::counter!(crate::metrics::RTP_LOST_TOTAL).increment(record.rtp_lost);
        let mut t = self.tally.lock();
        let s = &mut t.stats;
        match result {
            CallResult::Answered => s.active_calls = s.active_calls.saturating_sub(1),
            CallResult::Busy(_) => s.busy += 1,
            CallResult::Rejected(_) => s.rejected += 1,
            CallResult::Cancelled => s.cancelled += 1,
            CallResult::AuthFailed => {}
        }
        s.jitter_max_ms = s.jitter_max_ms.max(record.jitter_ms);
        if t.max_records == 0 {
            t.stats.per_call_dropped += 1;
            return;
        }
        if t.records.len() == t.max_records {
            t.records.pop_front();
            t.stats.per_call_dropped += 1;
        }
        t.records.push_back(record);
    }
}
