//! In-dialog handling of the UAS core: ACK, CANCEL, BYE, responses to our BYE, and timers.

use std::net::SocketAddr;

use rand::Rng;
use rsip::Method;
use rsip::prelude::*;
use tokio::time::Instant;

use super::Uas;
use crate::call::{
    Count, State, T1, T2, TimerKind, bye_destination, finish, send_dtmf, send_final, start_media,
    terminate,
};
use crate::sdp;
use crate::sipmsg::{self, Extra};
use crate::stats::{CallResult, Hangup};

impl Uas {
    pub(super) fn on_ack(&mut self, now: Instant, req: &rsip::Request, key: Option<u64>) {
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

    pub(super) fn on_cancel(
        &mut self,
        now: Instant,
        from: SocketAddr,
        req: &rsip::Request,
        key: Option<u64>,
    ) {
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

    pub(super) fn on_bye(
        &mut self,
        now: Instant,
        from: SocketAddr,
        req: &rsip::Request,
        key: Option<u64>,
    ) {
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

    pub(super) fn on_response(&mut self, now: Instant, resp: &rsip::Response) {
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

    pub(super) fn on_timer(&mut self, now: Instant, key: u64, kind: TimerKind, epoch: u64) {
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
