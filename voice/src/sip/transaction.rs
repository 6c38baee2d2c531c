//! RFC 3261 §17.1 client transactions, sans-IO: the INVITE transaction (Timers A, B, D) and
//! the non-INVITE transaction (Timers E, F, K), over UDP or a reliable transport (TCP).
//!
//! Over a reliable transport (RFC 3261 §17.1.1.2, §17.1.2.2) Timers A and E are not
//! started (the transport delivers or fails; nothing is retransmitted), Timers B and F
//! still bound the wait for a final response, and Timers D and K are zero: a final
//! response moves the transaction straight to Terminated. A transport failure
//! ([`ClientTransaction::handle_transport_error`]) terminates a pending transaction and
//! tells its user ([`TxOutput::TransportError`], RFC 3261 §17.1.4).
//!
//! The driver feeds responses whose top-Via branch and CSeq method match into
//! [`ClientTransaction::handle_input`], calls [`ClientTransaction::handle_timeout`] when
//! [`ClientTransaction::poll_timeout`] is due, and drains [`ClientTransaction::poll_output`]
//! after each call. The transaction never reads a clock.
//!
//! ```
//! # use sendbox_voice::sip::transaction::{ClientTransaction, TxOutput};
//! # use std::time::Duration;
//! # let req = sendbox_voice::sip::transaction::tests_support::options_request();
//! let now = tokio::time::Instant::now();
//! let mut tx = ClientTransaction::new(now, req, Duration::from_millis(500));
//! assert!(matches!(tx.poll_output(), Some(TxOutput::Transmit(_))));
//! assert_eq!(tx.poll_timeout(), Some(now + Duration::from_millis(500))); // Timer E
//! ```

use crate::sip::msg;
use bytes::Bytes;
use rsip::headers::UntypedHeader;
use rsip::{Header, Headers, Method, Request, Response};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// T2: the cap on non-INVITE retransmission intervals.
pub const T2: Duration = Duration::from_secs(4);
/// T4: how long a message may live in the network (Timer K).
const T4: Duration = Duration::from_secs(5);
/// Timer D over UDP: at least 32 s.
const TIMER_D: Duration = Duration::from_secs(32);

/// Transaction states (RFC 3261 figures 5 and 6; `Calling` is `Trying` for non-INVITE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    /// Request sent, nothing heard yet.
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; absorbing retransmissions until Timer D/K.
    Completed,
    /// Done; the transaction can be dropped.
    Terminated,
}

/// What the transaction asks its driver to do or tells its user.
#[derive(Debug, Clone, PartialEq)]
pub enum TxOutput {
    /// Send these bytes to the trunk (the request, a retransmission, or the ACK of a
    /// non-2xx final response).
    Transmit(Bytes),
    /// A response for the transaction user (first copy of each; retransmissions of a final
    /// response are absorbed).
    Response(Box<Response>),
    /// Timer B or F fired: no final response. The user treats it as a 408.
    TimedOut,
    /// The transport failed before a final response (RFC 3261 §17.1.4: the user treats it
    /// as a 503).
    TransportError,
}

/// Input from the network.
#[derive(Debug, Clone)]
pub enum TxInput {
    /// A response matched to this transaction by branch and CSeq method.
    Response(Response),
}

/// One client transaction.
#[derive(Debug)]
pub struct ClientTransaction {
    invite: bool,
    reliable: bool,
    state: TxState,
    request: Request,
    encoded: Bytes,
    branch: String,
    /// Next retransmission (Timer A/E) and the interval after it.
    retransmit: Option<(Instant, Duration)>,
    /// Timer B/F.
    timeout_at: Option<Instant>,
    /// Timer D/K: when Completed ends.
    linger_until: Option<Instant>,
    /// The ACK sent for a non-2xx final, resent when the final is retransmitted.
    ack: Option<Bytes>,
    last_status: u16,
    retransmits: u32,
    out: VecDeque<TxOutput>,
}

impl ClientTransaction {
    /// Start a transaction for `request` (its top Via carries the branch) and queue its
    /// first transmission, over UDP. `t1` is the RTT estimate (500 ms by default).
    pub fn new(now: Instant, request: Request, t1: Duration) -> Self {
        Self::over(now, request, t1, false)
    }

    /// Like [`Self::new`]; `reliable` says the transport is a stream (TCP): no Timer A/E,
    /// Timer D/K zero.
    pub fn over(now: Instant, request: Request, t1: Duration, reliable: bool) -> Self {
        let invite = request.method == Method::Invite;
        let encoded = msg::encode(request.clone());
        let branch = msg::branch(&request.clone().into()).unwrap_or_default();
        let mut out = VecDeque::with_capacity(2);
        out.push_back(TxOutput::Transmit(encoded.clone()));
        ClientTransaction {
            invite,
            reliable,
            state: TxState::Calling,
            request,
            encoded,
            branch,
            retransmit: (!reliable).then_some((now + t1, t1 * 2)),
            timeout_at: Some(now + t1 * 64),
            linger_until: None,
            ack: None,
            last_status: 0,
            retransmits: 0,
            out,
        }
    }

    /// The branch that identifies this transaction.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The request this transaction carries.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Current state.
    pub fn state(&self) -> TxState {
        self.state
    }

    /// True once the transaction can be dropped.
    pub fn is_terminated(&self) -> bool {
        self.state == TxState::Terminated
    }

    /// Retransmissions sent so far (Timer A/E).
    pub fn retransmits(&self) -> u32 {
        self.retransmits
    }

    /// The final status seen (0 if none yet).
    pub fn final_status(&self) -> u16 {
        self.last_status
    }

    /// Feed a matching response.
    pub fn handle_input(&mut self, now: Instant, input: TxInput) {
        let TxInput::Response(resp) = input;
        let code = resp.status_code.code();
        match (self.state, code) {
            (TxState::Terminated, _) => {}
            (TxState::Completed, 200..) => {
                // A retransmitted final: resend our ACK (INVITE), otherwise absorb.
                if let Some(ack) = &self.ack {
                    self.out.push_back(TxOutput::Transmit(ack.clone()));
                }
            }
            (TxState::Completed, _) => {}
            (TxState::Calling | TxState::Proceeding, 100..=199) => {
                self.state = TxState::Proceeding;
                if self.invite {
                    // Timer A stops; Timer B only guards Calling.
                    self.retransmit = None;
                    self.timeout_at = None;
                } else if let Some((at, _)) = self.retransmit {
                    // Non-INVITE in Proceeding retransmits every T2.
                    self.retransmit = Some((at, T2));
                }
                self.out.push_back(TxOutput::Response(Box::new(resp)));
            }
            (TxState::Calling | TxState::Proceeding, 200..=299) if self.invite => {
                // The TU (the dialog) acknowledges 2xx itself.
                self.last_status = code;
                self.stop_timers();
                self.state = TxState::Terminated;
                self.out.push_back(TxOutput::Response(Box::new(resp)));
            }
            (TxState::Calling | TxState::Proceeding, _) => {
                self.last_status = code;
                self.stop_timers();
                self.state = TxState::Completed;
                if self.invite {
                    let ack = msg::encode(self.ack_for(&resp));
                    self.out.push_back(TxOutput::Transmit(ack.clone()));
                    self.ack = Some(ack);
                }
                if self.reliable {
                    // Timer D/K = 0: nothing will be retransmitted to absorb.
                    self.state = TxState::Terminated;
                } else {
                    self.linger_until = Some(now + if self.invite { TIMER_D } else { T4 });
                }
                self.out.push_back(TxOutput::Response(Box::new(resp)));
            }
        }
    }

    /// Fire whatever timers are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(until) = self.linger_until
            && now >= until
        {
            self.linger_until = None;
            self.state = TxState::Terminated;
            return;
        }
        if let Some(at) = self.timeout_at
            && now >= at
        {
            self.stop_timers();
            self.state = TxState::Terminated;
            self.out.push_back(TxOutput::TimedOut);
            return;
        }
        if let Some((at, next)) = self.retransmit
            && now >= at
        {
            self.retransmits += 1;
            self.out.push_back(TxOutput::Transmit(self.encoded.clone()));
            let following = if self.invite {
                next * 2
            } else {
                (next * 2).min(T2)
            };
            self.retransmit = Some((now + next, following));
        }
    }

    /// The transport could not deliver the request or lost the connection its answer would
    /// come back on: a transaction still waiting for its final response terminates and
    /// reports [`TxOutput::TransportError`]; otherwise nothing happens.
    pub fn handle_transport_error(&mut self) {
        if matches!(self.state, TxState::Calling | TxState::Proceeding) {
            self.stop_timers();
            self.state = TxState::Terminated;
            self.out.push_back(TxOutput::TransportError);
        }
    }

    /// True if this transaction runs over a reliable transport.
    pub fn is_reliable(&self) -> bool {
        self.reliable
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<TxOutput> {
        self.out.pop_front()
    }

    /// When [`Self::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.retransmit.map(|(at, _)| at),
            self.timeout_at,
            self.linger_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn stop_timers(&mut self) {
        self.retransmit = None;
        self.timeout_at = None;
    }

    /// RFC 3261 §17.1.1.3: the ACK for a non-2xx final response belongs to the transaction:
    /// same Request-URI, top Via, From, Call-ID and Route; To from the response.
    fn ack_for(&self, resp: &Response) -> Request {
        let mut headers = Headers::default();
        let mut via_done = false;
        for h in self.request.headers.iter() {
            match h {
                Header::Via(_) if !via_done => {
                    via_done = true;
                    headers.push(h.clone());
                }
                Header::From(_) | Header::CallId(_) | Header::Route(_) | Header::MaxForwards(_) => {
                    headers.push(h.clone())
                }
                _ => {}
            }
        }
        if let Some(to) = resp.headers.iter().find(|h| matches!(h, Header::To(_))) {
            headers.push(to.clone());
        }
        let seq = msg::cseq(&self.request.clone().into())
            .map(|c| c.0)
            .unwrap_or(1);
        headers.push(rsip::headers::CSeq::new(format!("{seq} ACK")).into());
        Request {
            method: Method::Ack,
            uri: self.request.uri.clone(),
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        }
    }
}

/// Builders shared by the doc examples and the tests of this crate.
#[doc(hidden)]
pub mod tests_support {
    use super::*;

    /// An OPTIONS request with a fresh branch.
    pub fn options_request() -> Request {
        request(Method::Options, &msg::new_branch())
    }

    /// A request of `method` with `branch`.
    pub fn request(method: Method, branch: &str) -> Request {
        let mut headers = Headers::default();
        msg::push::<rsip::headers::Via>(
            &mut headers,
            format!("SIP/2.0/UDP 127.0.0.1:5060;branch={branch}"),
        );
        msg::push::<rsip::headers::From>(&mut headers, "<sip:a@127.0.0.1>;tag=f1");
        msg::push::<rsip::headers::To>(&mut headers, "<sip:7701@127.0.0.2>");
        msg::push::<rsip::headers::CallId>(&mut headers, "c1@127.0.0.1");
        msg::push::<rsip::headers::CSeq>(&mut headers, format!("1 {method}"));
        Request {
            method,
            // A constant, well-formed URI.
            uri: rsip::Uri::try_from("sip:7701@127.0.0.2").expect("constant URI"),
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        }
    }

    /// A response with `status` to `req`, with a To tag.
    pub fn response(req: &Request, status: u16) -> Response {
        msg::response_to(req, status, Some("t1"))
    }
}

#[cfg(test)]
#[path = "transaction_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "transaction_reliable_tests.rs"]
mod reliable_tests;
