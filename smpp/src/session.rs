//! The sans-IO SMPP session (ESME side): bind, window, keepalive, timeouts, answers to the peer.
//!
//! No sockets, no clock, no tasks. The driver feeds it [`Input`]s and the time, sends what
//! [`Session::poll_transmit`] gives, reports what [`Session::poll_event`] gives, and calls
//! [`Session::handle_timeout`] at [`Session::poll_timeout`].
//!
//! ```
//! use sendbox_smpp::session::{BindKind, Input, Session, SessionConfig, State};
//! use tokio::time::Instant;
//! let mut s = Session::new(SessionConfig::new(BindKind::Transceiver, "esme", "secret"));
//! let now = Instant::now();
//! s.handle_input(now, Input::Connected);
//! assert_eq!(s.state(), State::Binding);
//! let mut out = bytes::BytesMut::new();
//! s.poll_transmit(&mut out);
//! assert_eq!(&out[4..8], &[0, 0, 0, 9]); // bind_transceiver
//! ```

use crate::frame::{FrameItem, Framer, Header};
use crate::pdu::{self, Body, SubmitSm, cmd, status};
use bytes::{Bytes, BytesMut};
use foldhash::{HashMap, HashMapExt};
use rusmpp::pdus::{BindReceiver, BindTransceiver, BindTransmitter};
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::{Command, CommandStatus, Pdu};
use std::collections::VecDeque;
use tokio::time::Instant;
use tokio_util::codec::Encoder;

pub use crate::session_types::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    Bind,
    Submit(u64),
    EnquireLink,
    Unbind,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    req: Req,
    deadline: Instant,
}

/// The sans-IO SMPP session.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    state: State,
    framer: Framer,
    out: BytesMut,
    events: VecDeque<Event>,
    pending: HashMap<u32, Pending>,
    /// (deadline, seq) in send order: deadlines only grow, so the front expires first.
    deadlines: VecDeque<(Instant, u32)>,
    submits: usize,
    next_seq: u32,
    last_rx: Instant,
    /// The enquire_link we sent, until anything arrives from the peer.
    keepalive: Option<u32>,
}

impl Session {
    /// A closed session.
    pub fn new(cfg: SessionConfig) -> Self {
        let window = cfg.window.max(1);
        Session {
            framer: Framer::new(cfg.max_pdu_len),
            cfg,
            state: State::Closed,
            out: BytesMut::with_capacity(16 * 1024),
            events: VecDeque::new(),
            pending: HashMap::with_capacity(window + 4),
            deadlines: VecDeque::with_capacity(window + 4),
            submits: 0,
            next_seq: 1,
            last_rx: Instant::now(),
            keepalive: None,
        }
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Submits sent and not yet answered.
    pub fn outstanding(&self) -> usize {
        self.submits
    }

    /// Room for this many more submits now (0 unless bound for submits).
    pub fn room(&self) -> usize {
        if self.state != State::Bound || self.cfg.kind == BindKind::Receiver {
            return 0;
        }
        self.cfg.window.saturating_sub(self.submits)
    }

    /// Feeds an input.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Connected => self.connect(now),
            Input::Received(buf) => self.receive(now, buf),
            Input::Disconnected => {
                if self.state != State::Closed {
                    self.close(CloseReason::Disconnected);
                }
            }
        }
    }

    /// Sends a submit_sm for the caller's `token`; returns its sequence number.
    pub fn submit(
        &mut self,
        now: Instant,
        token: u64,
        m: &SubmitSm<'_>,
    ) -> Result<u32, SubmitError> {
        if self.room() == 0 {
            return Err(
                if self.state == State::Bound && self.cfg.kind != BindKind::Receiver {
                    SubmitError::WindowFull
                } else {
                    SubmitError::NotBound
                },
            );
        }
        let seq = self.request(now, Req::Submit(token));
        pdu::encode_submit_sm(&mut self.out, seq, m);
        self.submits += 1;
        Ok(seq)
    }

    /// Starts a graceful close: unbind when bound, or close at once otherwise.
    pub fn unbind(&mut self, now: Instant) {
        match self.state {
            State::Bound => {
                let seq = self.request(now, Req::Unbind);
                pdu::encode_header_only(&mut self.out, cmd::UNBIND, 0, seq);
                self.state = State::Unbinding;
            }
            State::Binding => self.close(CloseReason::Unbound),
            State::Closed | State::Unbinding => {}
        }
    }

    /// Handles every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(deadline, seq)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            let Some(p) = self.pending.get(&seq).copied() else {
                continue;
            };
            if p.deadline != deadline {
                continue; // the number was reused after a wrap: not this request
            }
            self.pending.remove(&seq);
            match p.req {
                Req::Submit(token) => {
                    self.submits -= 1;
                    self.events.push_back(Event::Timeout { token });
                }
                Req::Bind => return self.close(CloseReason::BindTimeout),
                Req::EnquireLink => return self.close(CloseReason::KeepaliveTimeout),
                Req::Unbind => return self.close(CloseReason::Unbound),
            }
        }
        if self.state == State::Bound
            && self.keepalive.is_none()
            && now >= self.last_rx + self.cfg.enquire_link
        {
            let seq = self.request(now, Req::EnquireLink);
            pdu::encode_header_only(&mut self.out, cmd::ENQUIRE_LINK, 0, seq);
            self.keepalive = Some(seq);
        }
    }

    /// The next time [`Session::handle_timeout`] must be called.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        // Drop answered requests from the front so the next deadline is a real one.
        while let Some(&(deadline, seq)) = self.deadlines.front() {
            match self.pending.get(&seq) {
                Some(p) if p.deadline == deadline => break,
                _ => {
                    self.deadlines.pop_front();
                }
            }
        }
        let response = self.deadlines.front().map(|d| d.0);
        let keepalive = (self.state == State::Bound && self.keepalive.is_none())
            .then(|| self.last_rx + self.cfg.enquire_link);
        match (response, keepalive) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Moves the bytes to send into `dst`; returns how many.
    pub fn poll_transmit(&mut self, dst: &mut BytesMut) -> usize {
        let n = self.out.len();
        if dst.is_empty() {
            std::mem::swap(dst, &mut self.out);
        } else {
            dst.extend_from_slice(&self.out);
            self.out.clear();
        }
        n
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // === impl Session: internals ===

    fn request(&mut self, now: Instant, req: Req) -> u32 {
        let mut seq = self.next_seq;
        while self.pending.contains_key(&seq) {
            seq = if seq >= MAX_SEQ { 1 } else { seq + 1 };
        }
        self.next_seq = if seq >= MAX_SEQ { 1 } else { seq + 1 };
        let deadline = now + self.cfg.response_timeout;
        self.pending.insert(seq, Pending { req, deadline });
        self.deadlines.push_back((deadline, seq));
        seq
    }

    fn connect(&mut self, now: Instant) {
        self.clear();
        self.last_rx = now;
        let c = &self.cfg;
        let bind = |cfg: &SessionConfig| -> Option<Pdu> {
            let sid = cfg.system_id.parse().ok()?;
            let pw = cfg.password.parse().ok()?;
            let st = cfg.system_type.parse().ok()?;
            let ar = cfg.address_range.parse().ok()?;
            let (v, ton, npi) = (
                cfg.interface_version.into(),
                cfg.addr_ton.into(),
                cfg.addr_npi.into(),
            );
            Some(match cfg.kind {
                BindKind::Transceiver => BindTransceiver::new(sid, pw, st, v, ton, npi, ar).into(),
                BindKind::Transmitter => BindTransmitter::new(sid, pw, st, v, ton, npi, ar).into(),
                BindKind::Receiver => BindReceiver::new(sid, pw, st, v, ton, npi, ar).into(),
            })
        };
        let Some(pdu) = bind(c) else {
            // Config validation keeps these fields in range; refuse locally rather than panic.
            return self.close(CloseReason::BindRejected(status::SYSERR));
        };
        let seq = self.request(now, Req::Bind);
        let command = Command::new(CommandStatus::EsmeRok, seq, pdu);
        // Encoding into a BytesMut cannot fail (the only error variant is I/O).
        let _ = CommandCodec::new().encode(&command, &mut self.out);
        self.state = State::Binding;
    }

    fn clear(&mut self) {
        self.pending.clear();
        self.deadlines.clear();
        self.submits = 0;
        self.keepalive = None;
        self.framer = Framer::new(self.cfg.max_pdu_len);
    }

    fn close(&mut self, reason: CloseReason) {
        let mut lost: Vec<(u32, u64)> = self
            .pending
            .iter()
            .filter_map(|(&seq, p)| match p.req {
                Req::Submit(t) => Some((seq, t)),
                _ => None,
            })
            .collect();
        lost.sort_unstable();
        self.events
            .extend(lost.into_iter().map(|(_, token)| Event::Lost { token }));
        self.clear();
        self.state = State::Closed;
        self.events.push_back(Event::Closed(reason));
    }

    fn receive(&mut self, now: Instant, buf: &mut BytesMut) {
        while self.state != State::Closed {
            match self.framer.next_frame(buf) {
                None => break,
                Some(Err(e)) => return self.close(CloseReason::Unframeable(e.len)),
                Some(Ok(FrameItem::Oversize(h))) => {
                    self.last_rx = now;
                    if !h.is_response() {
                        pdu::encode_header_only(
                            &mut self.out,
                            cmd::GENERIC_NACK,
                            status::INVCMDLEN,
                            h.seq,
                        );
                    }
                    self.events.push_back(Event::Malformed(h));
                }
                Some(Ok(FrameItem::Frame(f))) => {
                    self.last_rx = now;
                    // Anything from the peer proves it alive: the keepalive is answered.
                    if let Some(seq) = self.keepalive.take() {
                        self.pending.remove(&seq);
                    }
                    let d = pdu::decode(f.freeze());
                    self.on_pdu(d.header, d.body);
                }
            }
        }
    }

    fn on_pdu(&mut self, h: Header, body: Body) {
        match body {
            Body::EnquireLink => {
                pdu::encode_header_only(&mut self.out, cmd::RESP | cmd::ENQUIRE_LINK, 0, h.seq)
            }
            Body::Unbind => {
                pdu::encode_header_only(&mut self.out, cmd::RESP | cmd::UNBIND, 0, h.seq);
                self.close(CloseReason::PeerUnbind);
            }
            Body::DeliverSm(d) => {
                pdu::encode_deliver_sm_resp(&mut self.out, 0, h.seq);
                self.events.push_back(Event::Deliver(d));
            }
            Body::Malformed if h.id == cmd::DELIVER_SM => {
                // Always answer a deliver_sm, or the SMSC redelivers it and throttles the bind.
                pdu::encode_deliver_sm_resp(&mut self.out, 0, h.seq);
                self.events.push_back(Event::Malformed(h));
            }
            Body::Malformed | Body::Other if !h.is_response() => {
                let alert = h.id == 0x0000_0102 || h.id == 0x0000_000B; // alert_notification, outbind: no response
                if !alert {
                    let st = if matches!(body, Body::Other) {
                        status::INVCMDID
                    } else {
                        status::INVMSGLEN
                    };
                    pdu::encode_header_only(&mut self.out, cmd::GENERIC_NACK, st, h.seq);
                }
                if matches!(body, Body::Malformed) {
                    self.events.push_back(Event::Malformed(h));
                }
            }
            Body::Malformed => {
                self.events.push_back(Event::Malformed(h));
                self.on_response(h, Bytes::new());
            }
            Body::SubmitSmResp(id) => self.on_response(h, id),
            Body::BindResp
            | Body::EnquireLinkResp
            | Body::UnbindResp
            | Body::GenericNack
            | Body::Other => {
                self.on_response(h, Bytes::new());
            }
        }
    }

    fn on_response(&mut self, h: Header, message_id: Bytes) {
        let Some(p) = self.pending.remove(&h.seq) else {
            tracing::debug!(
                seq = h.seq,
                id = h.id,
                "Response to no outstanding request."
            );
            return;
        };
        let nack = h.id == cmd::GENERIC_NACK;
        match p.req {
            Req::Submit(token) => {
                self.submits -= 1;
                // A generic_nack with status 0 would read as success: make it an error.
                let status = if nack && h.status == 0 {
                    status::SYSERR
                } else {
                    h.status
                };
                let sent = p.deadline.checked_sub(self.cfg.response_timeout);
                self.events.push_back(Event::Response {
                    token,
                    status,
                    message_id,
                    waited: sent.map_or(std::time::Duration::ZERO, |t| {
                        self.last_rx.saturating_duration_since(t)
                    }),
                });
            }
            Req::Bind if h.status == 0 && !nack => {
                self.state = State::Bound;
                self.events.push_back(Event::Bound);
            }
            Req::Bind => {
                let status = if h.status == 0 {
                    status::SYSERR
                } else {
                    h.status
                };
                self.close(CloseReason::BindRejected(status));
            }
            Req::EnquireLink => {}
            Req::Unbind => self.close(CloseReason::Unbound),
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
