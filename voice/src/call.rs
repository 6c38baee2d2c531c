//! One outbound call, sans-IO: the INVITE and its transactions, the dialog, digest retry,
//! CANCEL, ACK, BYE, in-dialog requests from the callee, and the outcome.
//!
//! Inputs: [`Call::start`], [`Call::handle_sip`] (every message the transport routed here by
//! Call-ID), [`Call::handle_media_done`] (the pacer played every repeat),
//! [`Call::handle_digit`], [`Call::hangup`] (shutdown) and [`Call::handle_timeout`].
//! Outputs ([`Call::poll_output`]): datagrams for the trunk, media start/stop, and finally
//! [`CallOutput::Ended`] with everything the receipt needs.
//!
//! Ringing rules: the ring timeout counts from the INVITE; a call that is ringing (180/183)
//! is never cancelled before `min_ring_time` after the first ring, whatever asked for the
//! CANCEL (timeout or shutdown). CANCEL waits for a provisional response (RFC 3261 §9.1).
//! A 200 that crosses our CANCEL is ACKed and immediately ended with BYE: it is reported as
//! `Answered` (the trunk bills it) with `heard_ms = 0` and error `sip:200-after-cancel`.

use crate::config::SipTransport;
use crate::outcome::{CancelReason, classify};
use crate::sdp::{self, MediaAnswer};
use crate::sip::dialog::{Credential, Dialog};
use crate::sip::digest::{self, Credentials};
use crate::sip::msg::{self, MsgError};
use crate::sip::transaction::{ClientTransaction, TxInput, TxOutput};
use crate::sip::uas_2xx::{Due, Pending2xx};
use bytes::Bytes;
use rsip::{Method, Request, Response, SipMessage};
use sendbox_dispatch::FinalState;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// What one call needs to know.
#[derive(Debug, Clone)]
pub struct CallParams {
    /// Our From URI.
    pub from_uri: String,
    /// The callee, e.g. `sip:77011234567@trunk:5060`.
    pub to_uri: String,
    /// Our SIP socket address (Via, Contact).
    pub local_sip: SocketAddr,
    /// Our RTP address, advertised in the SDP.
    pub rtp_addr: SocketAddr,
    /// RFC 3261 T1.
    pub t1: Duration,
    /// Give up ringing after this long from the INVITE.
    pub ring_timeout: Duration,
    /// Never cancel a ringing call earlier than this after its first ring.
    pub min_ring_time: Duration,
    /// Digest credentials, if the trunk challenges.
    pub credentials: Option<Credentials>,
    /// One play of the prompt, in ms.
    pub prompt_ms: u64,
    /// Plays of the prompt.
    pub repeat: u8,
}

/// Monotonic times of the call's milestones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTimes {
    /// INVITE sent.
    pub invite: Option<Instant>,
    /// First 180/183.
    pub ring: Option<Instant>,
    /// 200 OK received.
    pub answer: Option<Instant>,
    /// BYE sent or received, or the final non-2xx.
    pub end: Option<Instant>,
}

/// How the call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEnd {
    /// Final state for the receipt.
    pub state: FinalState,
    /// True when another attempt makes sense (busy, no answer, temporary failure).
    pub retry: bool,
    /// Final SIP status of the INVITE (0 if none came).
    pub sip_status: u16,
    /// Protocol detail, e.g. `sip:486`.
    pub error: Option<String>,
    /// Milestones.
    pub times: CallTimes,
    /// DTMF digits with ms since answer.
    pub digits: Vec<(char, u32)>,
    /// Prompt ms played (all repeats).
    pub heard_ms: u64,
    /// Answered seconds, rounded up.
    pub billable_seconds: u32,
}

/// What the call asks its driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutput {
    /// Send to the trunk.
    Transmit(Bytes),
    /// The INVITE left: the dispatch is handed off.
    InviteSent,
    /// First 180/183.
    Ringing,
    /// Answered: start the prompt toward this address.
    StartMedia(MediaAnswer),
    /// A re-INVITE moved the callee's media (address, codec or DTMF payload type).
    MediaChanged(MediaAnswer),
    /// Stop sending media.
    StopMedia,
    /// The call is over; nothing more will come out.
    Ended(Box<CallEnd>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Inviting,
    Answered,
    Ending,
    Done,
}

/// The call state machine.
#[derive(Debug)]
pub struct Call {
    p: CallParams,
    reliable: bool,
    dialog: Dialog,
    phase: Phase,
    invite_tx: Option<ClientTransaction>,
    cancel_tx: Option<ClientTransaction>,
    bye_tx: Option<ClientTransaction>,
    offer: Vec<u8>,
    sdp_version: u64,
    auth_tried: bool,
    provisional: bool,
    cancel: Option<CancelReason>,
    cancel_sent: Option<Instant>,
    last_ack: Option<Bytes>,
    times: CallTimes,
    digits: Vec<(char, u32)>,
    result: Option<(FinalState, bool, Option<String>)>,
    status: u16,
    heard_ms: u64,
    media: Option<MediaAnswer>,
    media_complete: bool,
    retransmits: u32,
    /// Our 2xx to the trunk's last re-INVITE until its ACK (UDP only).
    reinvite_2xx: Option<Pending2xx>,
    out: VecDeque<CallOutput>,
}

impl Call {
    /// A call over UDP, not started yet.
    pub fn new(p: CallParams) -> Result<Self, MsgError> {
        Self::over(p, SipTransport::Udp)
    }

    /// A call whose SIP goes over `transport` (Via, Contact and the transaction timers
    /// follow it), not started yet.
    pub fn over(p: CallParams, transport: SipTransport) -> Result<Self, MsgError> {
        let dialog = Dialog::new(&p.from_uri, &p.to_uri, p.local_sip)?.with_transport(transport);
        let offer = sdp::offer(p.rtp_addr.ip(), p.rtp_addr.port(), 1);
        Ok(Call {
            p,
            reliable: transport.is_reliable(),
            dialog,
            phase: Phase::Idle,
            invite_tx: None,
            cancel_tx: None,
            bye_tx: None,
            offer,
            sdp_version: 1,
            auth_tried: false,
            provisional: false,
            cancel: None,
            cancel_sent: None,
            last_ack: None,
            times: CallTimes::default(),
            digits: Vec::new(),
            result: None,
            status: 0,
            heard_ms: 0,
            media: None,
            media_complete: false,
            retransmits: 0,
            reinvite_2xx: None,
            out: VecDeque::new(),
        })
    }

    /// The Call-ID (the transport routes by it; the receipt's operator reference).
    pub fn call_id(&self) -> &str {
        self.dialog.call_id()
    }

    /// True once [`CallOutput::Ended`] was emitted.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// True once the call is done and no transaction still waits for an answer (a BYE or
    /// CANCEL in flight). Transactions that only absorb retransmissions (Timer D/K) do not
    /// keep the call: a late retransmitted final then meets no call and is dropped, which
    /// keeps 1,000 setups/s from holding 32 s of finished calls in memory.
    pub fn is_finished(&self) -> bool {
        use crate::sip::transaction::TxState;
        self.is_done()
            && [&self.invite_tx, &self.cancel_tx, &self.bye_tx]
                .iter()
                .all(|t| {
                    t.as_ref().is_none_or(|t| {
                        matches!(t.state(), TxState::Completed | TxState::Terminated)
                    })
                })
    }

    /// SIP retransmissions sent so far.
    pub fn retransmits(&self) -> u32 {
        self.retransmits
            + [&self.invite_tx, &self.cancel_tx, &self.bye_tx]
                .iter()
                .filter_map(|t| t.as_ref().map(ClientTransaction::retransmits))
                .sum::<u32>()
    }

    /// Send the INVITE.
    pub fn start(&mut self, now: Instant) {
        if self.phase != Phase::Idle {
            return;
        }
        let req = self.dialog.invite(self.offer.clone(), None);
        self.invite_tx = Some(self.transaction(now, req));
        self.phase = Phase::Inviting;
        self.times.invite = Some(now);
        self.out.push_back(CallOutput::InviteSent);
        self.pump(now);
    }

    /// A message from the trunk with this call's Call-ID.
    pub fn handle_sip(&mut self, now: Instant, m: SipMessage) {
        match m {
            SipMessage::Response(r) => self.on_response(now, r),
            SipMessage::Request(r) => self.on_request(now, r),
        }
        self.pump(now);
    }

    /// The pacer sent every repeat of the prompt: hang up.
    pub fn handle_media_done(&mut self, now: Instant) {
        if self.phase == Phase::Answered {
            self.media_complete = true;
            self.send_bye(now, (FinalState::Answered, false, None));
        }
    }

    /// A DTMF digit, `at_ms` after the answer.
    pub fn handle_digit(&mut self, digit: char, at_ms: u32) {
        if matches!(self.phase, Phase::Answered | Phase::Ending) {
            self.digits.push((digit, at_ms));
        }
    }

    /// End the call (shutdown): BYE if answered, CANCEL if ringing (respecting the minimum
    /// ring time), nothing yet if the INVITE is unanswered (the CANCEL follows the first
    /// provisional, or Timer B ends it).
    pub fn hangup(&mut self, now: Instant) {
        match self.phase {
            Phase::Idle => {
                self.result = Some((FinalState::Cancelled, false, None));
                self.finish(now);
            }
            Phase::Inviting => {
                self.cancel.get_or_insert(CancelReason::Shutdown);
                self.maybe_cancel(now);
            }
            Phase::Answered => self.send_bye(now, (FinalState::Answered, false, None)),
            Phase::Ending | Phase::Done => {}
        }
        self.pump(now);
    }

    /// Fire due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        for tx in [&mut self.invite_tx, &mut self.cancel_tx, &mut self.bye_tx]
            .into_iter()
            .flatten()
        {
            if tx.poll_timeout().is_some_and(|t| t <= now) {
                tx.handle_timeout(now);
            }
        }
        self.reinvite_2xx_timeout(now);
        if self.phase == Phase::Inviting {
            if self.cancel.is_none() && self.ring_deadline().is_some_and(|t| t <= now) {
                self.cancel = Some(CancelReason::RingTimeout);
            }
            self.maybe_cancel(now);
            if self.cancel_guard().is_some_and(|t| t <= now) {
                // RFC 3261 §9.1: no final response 64*T1 after CANCEL; the INVITE is over.
                self.status = 487;
                let (state, retry) = classify(487, self.cancel);
                self.result = Some((state, retry, Some("sip:cancel-timeout".into())));
                self.finish(now);
            }
        }
        self.pump(now);
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<CallOutput> {
        self.out.pop_front()
    }

    /// When to call [`Self::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Vec<Option<Instant>> = [&self.invite_tx, &self.cancel_tx, &self.bye_tx]
            .iter()
            .map(|tx| tx.as_ref().and_then(ClientTransaction::poll_timeout))
            .collect();
        t.push(self.reinvite_2xx.as_ref().map(Pending2xx::poll_timeout));
        if self.phase == Phase::Inviting {
            if self.cancel.is_none() {
                t.push(self.ring_deadline());
            } else if self.cancel_sent.is_none() && self.provisional {
                t.push(self.cancel_earliest());
            }
            t.push(self.cancel_guard());
        }
        t.into_iter().flatten().min()
    }

    // === helpers ===

    /// Drain transaction outputs into call outputs and react to finals and timeouts.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(o) = self
                .invite_tx
                .as_mut()
                .and_then(ClientTransaction::poll_output)
            {
                progressed = true;
                match o {
                    TxOutput::Transmit(b) => self.out.push_back(CallOutput::Transmit(b)),
                    TxOutput::Response(r) => self.on_invite_response(now, *r),
                    TxOutput::TimedOut => self.on_invite_timeout(now, 408, "sip:timeout"),
                    TxOutput::TransportError => {
                        self.on_invite_timeout(now, 503, "sip:transport-error")
                    }
                }
            }
            while let Some(o) = self
                .cancel_tx
                .as_mut()
                .and_then(ClientTransaction::poll_output)
            {
                progressed = true;
                if let TxOutput::Transmit(b) = o {
                    self.out.push_back(CallOutput::Transmit(b));
                }
            }
            while let Some(o) = self
                .bye_tx
                .as_mut()
                .and_then(ClientTransaction::poll_output)
            {
                progressed = true;
                match o {
                    TxOutput::Transmit(b) => self.out.push_back(CallOutput::Transmit(b)),
                    TxOutput::Response(r) if r.status_code.code() < 200 => {}
                    TxOutput::Response(_) | TxOutput::TimedOut | TxOutput::TransportError => {
                        if self.phase == Phase::Ending {
                            self.finish(now);
                        }
                    }
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// No final response to the INVITE: Timer B (`status` 408) or a transport error (503).
    fn on_invite_timeout(&mut self, now: Instant, status: u16, error: &str) {
        if self.phase != Phase::Inviting {
            return;
        }
        self.status = if self.cancel_sent.is_some() {
            487
        } else {
            status
        };
        let (state, retry) = if self.cancel_sent.is_some() {
            classify(487, self.cancel)
        } else {
            (FinalState::Failed, true)
        };
        self.result = Some((state, retry, Some(error.into())));
        self.finish(now);
    }
}

#[path = "call_inbound.rs"]
mod inbound;

#[path = "call_ending.rs"]
mod ending;

#[cfg(test)]
#[path = "call_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "call_tcp_tests.rs"]
mod tcp_tests;
