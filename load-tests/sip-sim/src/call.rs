//! One call's UAS state, the core's outputs and its timer queue.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::behaviour::Behaviour;
use crate::sdp::MediaOffer;
use crate::sipmsg::ByeDialog;
use crate::sipmsg::{self, Extra};
use crate::stats::{CallResult, Hangup};
use rsip::Header;

/// RFC 3261 T1: first retransmit interval.
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 T2: retransmit interval cap.
pub const T2: Duration = Duration::from_secs(4);

/// Where a call's INVITE transaction or dialog stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// INVITE received, no final response yet (ringing or waiting for the ring delay).
    Proceeding,
    /// Final response sent and retransmitted until ACK (Timer G/H).
    AwaitAck {
        /// 2xx (dialog) or failure.
        ok: bool,
        /// The failure was a 401/407 challenge: keep the call for the retry.
        challenge: bool,
        /// Current retransmit interval.
        retx: Duration,
    },
    /// 2xx acknowledged; the dialog is up.
    Confirmed,
    /// We sent BYE and retransmit it until a response (Timer E/F).
    ByeSent {
        /// Current retransmit interval.
        retx: Duration,
    },
    /// A challenge was acknowledged; waiting for the INVITE with credentials.
    Challenged,
    /// Over; kept for a while to absorb retransmissions.
    Terminated,
}

/// Timer kinds; `epoch` in the key makes timers of an earlier state harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKind {
    /// Ring delay over: answer.
    Ring,
    /// Timer G (final response) or Timer E (BYE).
    Retransmit,
    /// Timer H (no ACK) or Timer F (no BYE response).
    GiveUp,
    /// `hangup_after` reached: send BYE.
    Hangup,
    /// Send DTMF digit number N.
    Dtmf(usize),
    /// Forget the call.
    Linger,
}

/// The state of one call (one Call-ID).
#[derive(Debug)]
pub struct Call {
    pub key: u64,
    pub number: String,
    pub src: SocketAddr,
    pub invite: rsip::Request,
    pub branch: String,
    pub to_tag: String,
    /// As chosen for the number (may be a challenge).
    pub behaviour: Behaviour,
    /// What is being done now that any challenge has been passed.
    pub active: Option<Behaviour>,
    pub state: State,
    pub epoch: u64,
    pub started: Instant,
    pub last_response: Option<Bytes>,
    pub offer: Option<MediaOffer>,
    pub rtp_idx: usize,
    pub answer_sdp: Option<String>,
    pub answered_at: Option<Instant>,
    pub media_started: bool,
    pub ssrc: u32,
    pub dtmf_seq: u16,
    pub dialog: Option<ByeDialog>,
    pub bye: Option<Bytes>,
    pub result: Option<CallResult>,
    pub ended: bool,
}

/// Something the core wants done.
#[derive(Debug)]
pub enum Output {
    /// Send a datagram on the SIP socket.
    Transmit(SocketAddr, Bytes),
    /// Start metering RTP from `remote` on receiver `idx`.
    MediaStart {
        idx: usize,
        remote: SocketAddr,
        ptime_ms: u32,
        dtmf_pt: Option<u8>,
    },
    /// Send one DTMF digit from receiver `idx`'s socket.
    Dtmf {
        idx: usize,
        remote: SocketAddr,
        pt: u8,
        event: u8,
        ssrc: u32,
        seq: u16,
        timestamp: u32,
    },
    /// A call is over (counted once).
    CallEnded {
        number: String,
        result: CallResult,
        hangup: Option<Hangup>,
        media: Option<(usize, SocketAddr)>,
        duration: Duration,
    },
    /// A counter to bump.
    Count(Count),
}

/// Counters the core reports as they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    CallReceived,
    Answered,
    Challenged,
    AuthFailure,
    ByeReceived,
    ByeSent,
    Options,
    AckTimeout,
    ParseError,
}

/// (due, insertion order, call key, kind, epoch).
type TimerEntry = (Instant, u64, u64, TimerKind, u64);

/// Outputs and timers, kept apart from the call table so both can be borrowed at once.
#[derive(Debug, Default)]
pub struct Io {
    pub out: VecDeque<Output>,
    timers: BinaryHeap<Reverse<TimerEntry>>,
    seq: u64,
}

impl Io {
    pub fn send(&mut self, to: SocketAddr, data: Bytes) {
        self.out.push_back(Output::Transmit(to, data));
    }

    pub fn count(&mut self, c: Count) {
        self.out.push_back(Output::Count(c));
    }

    pub fn schedule(&mut self, at: Instant, key: u64, kind: TimerKind, epoch: u64) {
        self.seq += 1;
        self.timers.push(Reverse((at, self.seq, key, kind, epoch)));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse(t)| t.0)
    }

    /// The next timer due at or before `now`: (call key, kind, epoch).
    pub fn pop_due(&mut self, now: Instant) -> Option<(u64, TimerKind, u64)> {
        if self.next_deadline()? > now {
            return None;
        }
        self.timers
            .pop()
            .map(|Reverse((_, _, key, kind, epoch))| (key, kind, epoch))
    }
}

// === helpers over one call ===

pub fn ring(io: &mut Io, call: &mut Call) {
    let contact = format!("sip:{}", call.invite.uri.host_with_port);
    let r = sipmsg::response(
        &call.invite,
        180,
        Extra {
            to_tag: Some(&call.to_tag),
            contact: Some(&contact),
            ..Default::default()
        },
    );
    call.last_response = Some(r.clone());
    io.send(call.src, r);
}

#[allow(clippy::too_many_arguments)]
pub fn send_final(
    io: &mut Io,
    call: &mut Call,
    now: Instant,
    code: u16,
    headers: Vec<Header>,
    body: Option<(&str, String)>,
    challenge: bool,
) {
    let (contact, sdp) = body.map_or((None, None), |(c, s)| (Some(c), Some(s)));
    let extra = Extra {
        to_tag: Some(&call.to_tag),
        contact,
        headers,
        sdp,
    };
    let r: Bytes = sipmsg::response(&call.invite, code, extra);
    call.last_response = Some(r.clone());
    io.send(call.src, r);
    call.epoch += 1;
    call.state = State::AwaitAck {
        ok: (200..300).contains(&code),
        challenge,
        retx: T1,
    };
    io.schedule(now + T1, call.key, TimerKind::Retransmit, call.epoch);
    io.schedule(now + 64 * T1, call.key, TimerKind::GiveUp, call.epoch);
}

pub fn start_media(io: &mut Io, call: &mut Call) {
    if let (Some(offer), false) = (&call.offer, call.media_started) {
        call.media_started = true;
        io.out.push_back(Output::MediaStart {
            idx: call.rtp_idx,
            remote: offer.addr,
            ptime_ms: offer.ptime_ms,
            dtmf_pt: offer.dtmf_pt,
        });
    }
}

pub fn send_dtmf(io: &mut Io, call: &mut Call, now: Instant, i: usize) {
    let (
        Some(Behaviour::Answer { dtmf, .. }),
        Some(MediaOffer {
            addr,
            dtmf_pt: Some(pt),
            ..
        }),
        Some(t0),
    ) = (&call.active, &call.offer, call.answered_at)
    else {
        return;
    };
    let Some(event) = dtmf.get(i).and_then(|(d, _)| crate::dtmf::event_code(*d)) else {
        return;
    };
    let timestamp = u32::try_from(now.duration_since(t0).as_millis() * 8).unwrap_or(0);
    io.out.push_back(Output::Dtmf {
        idx: call.rtp_idx,
        remote: *addr,
        pt: *pt,
        event,
        ssrc: call.ssrc,
        seq: call.dtmf_seq,
        timestamp,
    });
    call.dtmf_seq = call.dtmf_seq.wrapping_add(crate::dtmf::PACKETS_PER_DIGIT);
}

pub fn bye_destination(call: &Call) -> Option<SocketAddr> {
    let dialog = call.dialog.as_ref()?;
    let uri = dialog
        .routes
        .first()
        .map_or(dialog.target_uri.as_str(), |r| {
            r.trim_start_matches('<')
                .split(['>', ';'])
                .next()
                .unwrap_or("")
        });
    rsip::Uri::try_from(uri)
        .ok()
        .and_then(|u| sipmsg::contact_addr(&u))
        .or(Some(call.src))
}

/// Report the call once.
pub fn finish(io: &mut Io, call: &mut Call, now: Instant, hangup: Option<Hangup>) {
    let Some(result) = call.result else { return };
    if call.ended || (result == CallResult::Answered && hangup.is_none()) {
        return;
    }
    call.ended = true;
    let media = call
        .offer
        .as_ref()
        .filter(|_| call.media_started)
        .map(|o| (call.rtp_idx, o.addr));
    io.out.push_back(Output::CallEnded {
        number: call.number.clone(),
        result,
        hangup,
        media,
        duration: now.duration_since(call.started),
    });
}

pub fn terminate(
    io: &mut Io,
    call: &mut Call,
    now: Instant,
    key: u64,
    linger: std::time::Duration,
) {
    call.epoch += 1;
    call.state = State::Terminated;
    io.schedule(now + linger, key, TimerKind::Linger, call.epoch);
}
