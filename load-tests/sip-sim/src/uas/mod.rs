//! The sans-IO UAS core: INVITE server transactions, dialogs, CANCEL, BYE, OPTIONS, digest.
//!
//! `handle_datagram(now, from, bytes)` and `handle_timeout(now)` feed it; `poll_output()` drains
//! transmits and events; `poll_timeout()` says when to call `handle_timeout` next. It never
//! reads a clock and owns no socket, so the same code runs in the loopback tests and the CLI.
//! In-dialog handling (ACK, CANCEL, BYE, responses, timers) lives in `dialog`.

mod dialog;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rsip::prelude::*;
use rsip::{Header, Method, SipMessage};
use tokio::time::Instant;

use crate::auth::{AuthCheck, DigestVerifier};
use crate::behaviour::{Behaviour, BehaviourTable};
use crate::call::{
    Call, Count, Io, Output, State, TimerKind, finish, ring, send_final, start_media,
};
use crate::sdp;
use crate::sipmsg::{self, ByeDialog, Extra};
use crate::stats::{CallResult, Hangup};

/// Static settings of the core.
#[derive(Debug, Clone)]
pub struct UasConfig {
    /// Behaviour selection.
    pub table: BehaviourTable,
    /// Our SIP address as advertised in Contact and Via.
    pub local: SocketAddr,
    /// RTP receive addresses, assigned to calls round robin.
    pub rtp_addrs: Vec<SocketAddr>,
    /// How long finished calls are remembered to absorb retransmissions.
    pub linger: std::time::Duration,
}

/// The UAS core.
#[derive(Debug)]
pub struct Uas {
    cfg: UasConfig,
    verifier: DigestVerifier,
    rng: StdRng,
    calls: HashMap<u64, Call>,
    by_call_id: HashMap<String, u64>,
    /// New INVITEs per dialed number, kept only when a rule depends on it.
    invites_to: HashMap<String, u32>,
    next_key: u64,
    next_rtp: usize,
    io: Io,
}

impl Uas {
    /// A core with `credentials` for challenges and a seeded RNG (mix, tags, nonces).
    pub fn new(cfg: UasConfig, credentials: (&str, &str), seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let verifier = DigestVerifier::new(credentials.0, credentials.1, rng.random());
        Self {
            cfg,
            verifier,
            rng,
            calls: HashMap::new(),
            by_call_id: HashMap::new(),
            invites_to: HashMap::new(),
            next_key: 0,
            next_rtp: 0,
            io: Io::default(),
        }
    }

    /// Next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.io.out.pop_front()
    }

    /// When `handle_timeout` should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.io.next_deadline()
    }

    /// One datagram from the SIP socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if data.iter().all(u8::is_ascii_whitespace) {
            return; // CRLF keep-alive
        }
        match SipMessage::try_from(data) {
            Ok(SipMessage::Request(req)) => self.on_request(now, from, req),
            Ok(SipMessage::Response(resp)) => self.on_response(now, &resp),
            Err(e) => {
                tracing::debug!(%from, error = %e, "Unparseable SIP datagram.");
                self.io.count(Count::ParseError);
            }
        }
    }

    /// Run every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((key, kind, epoch)) = self.io.pop_due(now) {
            self.on_timer(now, key, kind, epoch);
        }
    }

    /// End every answered call that is still up (they are reported with `Hangup::Shutdown`).
    pub fn shutdown(&mut self, now: Instant) {
        let keys: Vec<u64> = self.calls.keys().copied().collect();
        for key in keys {
            if let Some(call) = self.calls.get_mut(&key) {
                finish(&mut self.io, call, now, Some(Hangup::Shutdown));
            }
        }
    }

    fn on_request(&mut self, now: Instant, from: SocketAddr, req: rsip::Request) {
        let Some(call_id) = req.call_id_header().ok().map(|c| c.value().to_owned()) else {
            self.io
                .send(from, sipmsg::response(&req, 400, Extra::default()));
            return;
        };
        let key = self.by_call_id.get(&call_id).copied();
        match req.method {
            Method::Invite => self.on_invite(now, from, req, call_id, key),
            Method::Ack => self.on_ack(now, &req, key),
            Method::Cancel => self.on_cancel(now, from, &req, key),
            Method::Bye => self.on_bye(now, from, &req, key),
            Method::Options => {
                self.io.count(Count::Options);
                let accept = Header::Accept(rsip::headers::Accept::new("application/sdp"));
                self.io.send(
                    from,
                    sipmsg::response(
                        &req,
                        200,
                        Extra {
                            headers: vec![accept],
                            ..Default::default()
                        },
                    ),
                );
            }
            Method::Info | Method::Update if key.is_some() => self
                .io
                .send(from, sipmsg::response(&req, 200, Extra::default())),
            Method::Info | Method::Update => self
                .io
                .send(from, sipmsg::response(&req, 481, Extra::default())),
            _ => self
                .io
                .send(from, sipmsg::response(&req, 501, Extra::default())),
        }
    }

    fn on_invite(
        &mut self,
        now: Instant,
        from: SocketAddr,
        req: rsip::Request,
        call_id: String,
        key: Option<u64>,
    ) {
        let branch = sipmsg::top_branch(&req).unwrap_or_default();
        let key = match key.and_then(|k| self.calls.get_mut(&k).map(|c| (k, c))) {
            Some((_, call)) if call.branch == branch => {
                // Retransmitted INVITE: repeat the latest response.
                if let Some(r) = call.last_response.clone() {
                    self.io.send(from, r);
                }
                return;
            }
            Some((_, call))
                if matches!(
                    call.state,
                    State::Confirmed | State::AwaitAck { ok: true, .. }
                ) =>
            {
                // re-INVITE inside the dialog: same answer again.
                let contact = format!("sip:{}", self.cfg.local);
                let extra = Extra {
                    to_tag: Some(&call.to_tag),
                    contact: Some(&contact),
                    sdp: call.answer_sdp.clone(),
                    ..Default::default()
                };
                self.io.send(from, sipmsg::response(&req, 200, extra));
                return;
            }
            Some((k, call))
                if matches!(
                    call.state,
                    State::Challenged
                        | State::Terminated
                        | State::AwaitAck {
                            challenge: true,
                            ..
                        }
                ) && call.result.is_none() =>
            {
                k
            }
            Some(_) => {
                self.io
                    .send(from, sipmsg::response(&req, 491, Extra::default()));
                return;
            }
            None if req.to_header().is_ok_and(|t| sipmsg::has_tag(t.value())) => {
                // An in-dialog INVITE for a dialog we do not know.
                self.io
                    .send(from, sipmsg::response(&req, 481, Extra::default()));
                return;
            }
            None => {
                self.io.count(Count::CallReceived);
                let number = req.uri.user().unwrap_or_default().to_owned();
                let nth = if self.cfg.table.counts_calls() {
                    let n = self.invites_to.entry(number.clone()).or_default();
                    *n = n.saturating_add(1);
                    *n
                } else {
                    1
                };
                let behaviour = self
                    .cfg
                    .table
                    .choose_nth(&number, nth, self.rng.random())
                    .clone();
                self.next_key += 1;
                let key = self.next_key;
                let call = Call {
                    key,
                    number,
                    src: from,
                    invite: req.clone(),
                    branch: String::new(),
                    to_tag: String::new(),
                    behaviour,
                    active: None,
                    state: State::Proceeding,
                    epoch: 0,
                    started: now,
                    last_response: None,
                    offer: None,
                    rtp_idx: 0,
                    answer_sdp: None,
                    answered_at: None,
                    media_started: false,
                    ssrc: self.rng.random(),
                    dtmf_seq: self.rng.random(),
                    dialog: None,
                    bye: None,
                    result: None,
                    ended: false,
                };
                self.calls.insert(key, call);
                self.by_call_id.insert(call_id, key);
                key
            }
        };
        let to_tag = format!("{:08x}", self.rng.random::<u32>());
        // The key was inserted or found just above.
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.src = from;
        call.invite = req;
        call.branch = branch;
        call.to_tag = to_tag;
        call.state = State::Proceeding;
        call.epoch += 1;
        let trying = sipmsg::response(&call.invite, 100, Extra::default());
        call.last_response = Some(trying.clone());
        self.io.send(from, trying);
        self.start(now, key);
    }

    /// Apply the call's behaviour to its current INVITE transaction.
    fn start(&mut self, now: Instant, key: u64) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let mut b = call.behaviour.clone();
        while let Behaviour::Challenge {
            realm,
            kind,
            algorithm,
            then,
        } = b
        {
            let wanted = if kind == 407 {
                "proxy-authorization"
            } else {
                "authorization"
            };
            let given = call.invite.headers.iter().find_map(|h| match h {
                Header::Authorization(a) if wanted == "authorization" => Some(a.value().to_owned()),
                Header::ProxyAuthorization(a) if wanted == "proxy-authorization" => {
                    Some(a.value().to_owned())
                }
                Header::Other(name, value) if name.eq_ignore_ascii_case(wanted) => {
                    Some(value.clone())
                }
                _ => None,
            });
            match given.map(|g| self.verifier.verify(&g, "INVITE", &realm)) {
                None => {
                    self.io.count(Count::Challenged);
                    let value = self.verifier.challenge(&realm, algorithm);
                    let header = if kind == 407 {
                        Header::ProxyAuthenticate(rsip::headers::ProxyAuthenticate::new(value))
                    } else {
                        Header::WwwAuthenticate(rsip::headers::WwwAuthenticate::new(value))
                    };
                    send_final(&mut self.io, call, now, kind, vec![header], None, true);
                    return;
                }
                Some(AuthCheck::Ok) => b = *then,
                Some(check) => {
                    tracing::debug!(?check, "Digest verification failed.");
                    self.io.count(Count::AuthFailure);
                    call.result = Some(CallResult::AuthFailed);
                    send_final(&mut self.io, call, now, 403, vec![], None, false);
                    finish(&mut self.io, call, now, None);
                    return;
                }
            }
        }
        call.active = Some(b.clone());
        match b {
            Behaviour::Busy(code) | Behaviour::Reject(code) => {
                call.result = Some(if matches!(b, Behaviour::Busy(_)) {
                    CallResult::Busy(code)
                } else {
                    CallResult::Rejected(code)
                });
                send_final(&mut self.io, call, now, code, vec![], None, false);
                finish(&mut self.io, call, now, None);
            }
            Behaviour::NoAnswer => ring(&mut self.io, call),
            Behaviour::Answer { ring: delay, .. } => {
                call.offer = None;
                if !call.invite.body.is_empty() {
                    match sdp::read_offer(&call.invite.body) {
                        Ok(offer) => call.offer = Some(offer),
                        Err(e) => {
                            tracing::debug!(error = %e, "Offer refused.");
                            call.result = Some(CallResult::Rejected(488));
                            send_final(&mut self.io, call, now, 488, vec![], None, false);
                            finish(&mut self.io, call, now, None);
                            return;
                        }
                    }
                }
                if delay.is_zero() {
                    self.answer(now, key);
                } else {
                    ring(&mut self.io, call);
                    self.io
                        .schedule(now + delay, key, TimerKind::Ring, call.epoch);
                }
            }
            Behaviour::Challenge { .. } => {
                unreachable!("challenges are unwrapped by the loop above")
            }
        }
    }

    fn answer(&mut self, now: Instant, key: u64) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        self.next_rtp = self.next_rtp.wrapping_add(1);
        call.rtp_idx = self.next_rtp % self.cfg.rtp_addrs.len().max(1);
        let rtp = self
            .cfg
            .rtp_addrs
            .get(call.rtp_idx)
            .copied()
            .unwrap_or(self.cfg.local);
        let session = u64::from(self.rng.random::<u32>());
        let body = match &call.offer {
            Some(offer) => sdp::write_answer(rtp, session, offer),
            None => sdp::write_offer(rtp, session),
        };
        call.answer_sdp = Some(body.clone());
        let contact = format!("sip:{}", self.cfg.local);
        let inv = &call.invite;
        let remote_contact = inv.contact_header().ok().and_then(|c| c.uri().ok());
        let target_uri = remote_contact
            .as_ref()
            .map_or_else(|| format!("sip:{}", call.src), |u| u.to_string());
        let routes = inv.headers.iter().filter_map(|h| match h {
            Header::RecordRoute(r) => Some(r.value().to_owned()),
            _ => None,
        });
        call.dialog = Some(ByeDialog {
            target_uri,
            remote: inv
                .from_header()
                .map(|f| f.value().to_owned())
                .unwrap_or_default(),
            local: inv
                .to_header()
                .map(|t| format!("{};tag={}", t.value(), call.to_tag))
                .unwrap_or_default(),
            call_id: inv
                .call_id_header()
                .map(|c| c.value().to_owned())
                .unwrap_or_default(),
            routes: routes.collect(),
        });
        call.result = Some(CallResult::Answered);
        call.answered_at = Some(now);
        self.io.count(Count::Answered);
        // Meter the caller's media before the 200 OK leaves: a quick caller may send its first
        // RTP packet as soon as the answer arrives.
        start_media(&mut self.io, call);
        send_final(
            &mut self.io,
            call,
            now,
            200,
            vec![],
            Some((&contact, body)),
            false,
        );
        if let Some(Behaviour::Answer {
            hangup_after, dtmf, ..
        }) = &call.active
        {
            if let Some(after) = hangup_after {
                self.io.schedule(now + *after, key, TimerKind::Hangup, 0);
            }
            for (i, (_, at)) in dtmf.iter().enumerate() {
                self.io.schedule(now + *at, key, TimerKind::Dtmf(i), 0);
            }
        }
    }
}
