//! The sans-IO UAS core: INVITE server transactions, dialogs, CANCEL, BYE, OPTIONS, digest.
//!
//! `handle_datagram(now, from, bytes)` and `handle_timeout(now)` feed it; `poll_output()` drains
//! transmits and events; `poll_timeout()` says when to call `handle_timeout` next. It never
//! reads a clock and owns no socket, so the same code runs in the loopback tests and the CLI.

use std::collections::HashMap;
use std::net::SocketAddr;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rsip::prelude::*;
use rsip::{Header, Method, SipMessage};
use tokio::time::Instant;

use crate::auth::{AuthCheck, DigestVerifier};
use crate::behaviour::{Behaviour, BehaviourTable};
use crate::call::{Call, Count, Io, Output, State, T1, T2, TimerKind};
use crate::sdp::{self, MediaOffer};
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
                if matches!(call.state, State::Challenged | State::Terminated)
                    && call.result.is_none() =>
            {
                k
            }
            Some(_) => {
                self.io
                    .send(from, sipmsg::response(&req, 491, Extra::default()));
                return;
            }
            None => {
                self.io.count(Count::CallReceived);
                let number = req.uri.user().unwrap_or_default().to_owned();
                let behaviour = self.cfg.table.choose(&number, self.rng.random()).clone();
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
        send_final(
            &mut self.io,
            call,
            now,
            200,
            vec![],
            Some((&contact, body)),
            false,
        );
        start_media(&mut self.io, call);
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

// === impl Uas: ACK, CANCEL, BYE, responses, timers ===

impl Uas {
    fn on_ack(&mut self, now: Instant, req: &rsip::Request, key: Option<u64>) {
        let Some((key, call)) = key.and_then(|k| self.calls.get_mut(&k).map(|c| (k, c))) else {
            return;
        };
        let State::AwaitAck { ok, challenge, .. } = call.state else {
            return;
        };
        call.epoch += 1;
        if ok {
            call.state = State::Confirmed;
            if call.offer.is_none() && !req.body.is_empty() {
                call.offer = sdp::read_offer(&req.body).ok();
                start_media(&mut self.io, call);
            }
        } else if challenge {
            call.state = State::Challenged;
            self.io
                .schedule(now + 64 * T1, key, TimerKind::Linger, call.epoch);
        } else {
            terminate(&mut self.io, call, now, key, self.cfg.linger);
        }
    }

    fn on_cancel(&mut self, now: Instant, from: SocketAddr, req: &rsip::Request, key: Option<u64>) {
        let branch = sipmsg::top_branch(req).unwrap_or_default();
        let Some(call) = key
            .and_then(|k| self.calls.get_mut(&k))
            .filter(|c| c.branch == branch)
        else {
            self.io
                .send(from, sipmsg::response(req, 481, Extra::default()));
            return;
        };
        self.io.send(
            from,
            sipmsg::response(
                req,
                200,
                Extra {
                    to_tag: Some(&call.to_tag),
                    ..Default::default()
                },
            ),
        );
        if call.state == State::Proceeding {
            call.result = Some(CallResult::Cancelled);
            send_final(&mut self.io, call, now, 487, vec![], None, false);
            finish(&mut self.io, call, now, None);
        }
    }

    fn on_bye(&mut self, now: Instant, from: SocketAddr, req: &rsip::Request, key: Option<u64>) {
        let Some((key, call)) = key.and_then(|k| self.calls.get_mut(&k).map(|c| (k, c))) else {
            self.io
                .send(from, sipmsg::response(req, 481, Extra::default()));
            return;
        };
        match call.state {
            State::Confirmed | State::AwaitAck { ok: true, .. } | State::ByeSent { .. } => {
                self.io.count(Count::ByeReceived);
                self.io
                    .send(from, sipmsg::response(req, 200, Extra::default()));
                finish(&mut self.io, call, now, Some(Hangup::Caller));
                terminate(&mut self.io, call, now, key, self.cfg.linger);
            }
            State::Terminated if call.answered_at.is_some() => self
                .io
                .send(from, sipmsg::response(req, 200, Extra::default())),
            _ => self
                .io
                .send(from, sipmsg::response(req, 481, Extra::default())),
        }
    }

    fn on_response(&mut self, now: Instant, resp: &rsip::Response) {
        let code = u16::from(resp.status_code.clone());
        let is_bye = resp.cseq_header().ok().and_then(|c| c.method().ok()) == Some(Method::Bye);
        let Some(call_id) = resp.call_id_header().ok().map(|c| c.value()) else {
            return;
        };
        let Some(&key) = self.by_call_id.get(call_id) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if is_bye && code >= 200 && matches!(call.state, State::ByeSent { .. }) {
            terminate(&mut self.io, call, now, key, self.cfg.linger);
        }
    }

    fn on_timer(&mut self, now: Instant, key: u64, kind: TimerKind, epoch: u64) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let current = epoch == call.epoch;
        match (kind, call.state) {
            (TimerKind::Ring, State::Proceeding) if current => self.answer(now, key),
            (
                TimerKind::Retransmit,
                State::AwaitAck {
                    ok,
                    challenge,
                    retx,
                },
            ) if current => {
                if let Some(r) = call.last_response.clone() {
                    self.io.send(call.src, r);
                }
                let retx = (retx * 2).min(T2);
                call.state = State::AwaitAck {
                    ok,
                    challenge,
                    retx,
                };
                self.io
                    .schedule(now + retx, key, TimerKind::Retransmit, epoch);
            }
            (TimerKind::Retransmit, State::ByeSent { retx }) if current => {
                if let (Some(bye), Some(to)) = (call.bye.clone(), bye_destination(call)) {
                    self.io.send(to, bye);
                }
                let retx = (retx * 2).min(T2);
                call.state = State::ByeSent { retx };
                self.io
                    .schedule(now + retx, key, TimerKind::Retransmit, epoch);
            }
            (TimerKind::GiveUp, State::AwaitAck { ok, .. }) if current => {
                self.io.count(Count::AckTimeout);
                finish(&mut self.io, call, now, ok.then_some(Hangup::AckTimeout));
                terminate(&mut self.io, call, now, key, self.cfg.linger);
            }
            (TimerKind::GiveUp, State::ByeSent { .. }) if current => {
                terminate(&mut self.io, call, now, key, self.cfg.linger)
            }
            (TimerKind::Hangup, State::Confirmed | State::AwaitAck { ok: true, .. }) => {
                let Some(dialog) = &call.dialog else { return };
                let branch = format!("z9hG4bK{:016x}", self.rng.random::<u64>());
                let bye = sipmsg::bye(dialog, 1, &branch, self.cfg.local);
                call.bye = Some(bye.clone());
                if let Some(to) = bye_destination(call) {
                    self.io.send(to, bye);
                }
                self.io.count(Count::ByeSent);
                finish(&mut self.io, call, now, Some(Hangup::Simulator));
                call.epoch += 1;
                call.state = State::ByeSent { retx: T1 };
                self.io
                    .schedule(now + T1, key, TimerKind::Retransmit, call.epoch);
                self.io
                    .schedule(now + 64 * T1, key, TimerKind::GiveUp, call.epoch);
            }
            (TimerKind::Dtmf(i), State::Confirmed | State::AwaitAck { ok: true, .. }) => {
                send_dtmf(&mut self.io, call, now, i)
            }
            (TimerKind::Linger, State::Terminated | State::Challenged) if current => {
                let call_id = call
                    .invite
                    .call_id_header()
                    .map(|c| c.value().to_owned())
                    .unwrap_or_default();
                self.calls.remove(&key);
                if self.by_call_id.get(&call_id) == Some(&key) {
                    self.by_call_id.remove(&call_id);
                }
            }
            _ => {}
        }
    }
}

// === helpers over one call ===

fn ring(io: &mut Io, call: &mut Call) {
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
fn send_final(
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

fn start_media(io: &mut Io, call: &mut Call) {
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

fn send_dtmf(io: &mut Io, call: &mut Call, now: Instant, i: usize) {
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
    call.dtmf_seq = call.dtmf_seq.wrapping_add(16);
}

fn bye_destination(call: &Call) -> Option<SocketAddr> {
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
fn finish(io: &mut Io, call: &mut Call, now: Instant, hangup: Option<Hangup>) {
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

fn terminate(io: &mut Io, call: &mut Call, now: Instant, key: u64, linger: std::time::Duration) {
    call.epoch += 1;
    call.state = State::Terminated;
    io.schedule(now + linger, key, TimerKind::Linger, call.epoch);
}
