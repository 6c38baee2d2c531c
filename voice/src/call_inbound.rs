//! The call's reactions to what arrives from the trunk: responses (matched to the INVITE,
//! CANCEL or BYE transaction by branch and CSeq method), in-dialog requests from the callee,
//! the INVITE's final responses, the answer and the digest retry.

use super::*;

impl Call {
    /// The transport lost the connection (TCP): transactions still waiting for a final
    /// response cannot get it (responses come back on the request's connection), so they end
    /// now with a transport error (RFC 3261 §17.1.4) instead of waiting for Timer B/F. An
    /// answered call without a transaction in flight plays on.
    pub fn handle_transport_error(&mut self, now: Instant) {
        for tx in [&mut self.invite_tx, &mut self.cancel_tx, &mut self.bye_tx]
            .into_iter()
            .flatten()
        {
            tx.handle_transport_error();
        }
        self.pump(now);
    }

    /// A client transaction for `req` over this call's transport.
    pub(super) fn transaction(&self, now: Instant, req: Request) -> ClientTransaction {
        ClientTransaction::over(now, req, self.p.t1, self.reliable)
    }

    pub(super) fn on_response(&mut self, now: Instant, r: Response) {
        let m: SipMessage = r.into();
        let (Ok(branch), Ok((_, method))) = (msg::branch(&m), msg::cseq(&m)) else {
            return;
        };
        let SipMessage::Response(r) = m else { return };
        for tx in [&mut self.invite_tx, &mut self.cancel_tx, &mut self.bye_tx]
            .into_iter()
            .flatten()
        {
            if tx.branch() == branch && tx.request().method == method && !tx.is_terminated() {
                tx.handle_input(now, TxInput::Response(r));
                return;
            }
        }
        // A 2xx retransmitted after the INVITE transaction ended: the ACK was lost.
        if method == Method::Invite
            && (200..300).contains(&r.status_code.code())
            && let Some(ack) = &self.last_ack
        {
            self.out.push_back(CallOutput::Transmit(ack.clone()));
        }
    }

    pub(super) fn on_request(&mut self, now: Instant, req: Request) {
        let m: SipMessage = req.into();
        let cseq = msg::cseq(&m).map(|(n, _)| n).ok();
        let SipMessage::Request(req) = m else { return };
        if req.method == Method::Ack {
            if self
                .reinvite_2xx
                .as_ref()
                .is_some_and(|p| cseq.is_some_and(|n| p.acked_by(n)))
            {
                self.reinvite_2xx = None;
            }
            return;
        }
        // The trunk resent its re-INVITE (our 2xx was lost): the same answer again.
        if req.method == Method::Invite
            && let Some(p) = &self.reinvite_2xx
            && cseq == Some(p.cseq())
        {
            self.out.push_back(CallOutput::Transmit(p.bytes().clone()));
            return;
        }
        if !self.dialog.is_confirmed() || self.phase == Phase::Done {
            let resp = msg::response_to(&req, 481, None);
            self.out.push_back(CallOutput::Transmit(msg::encode(resp)));
            return;
        }
        let resp = match req.method {
            Method::Bye => {
                let resp = self.dialog.respond(&req, 200);
                self.out.push_back(CallOutput::Transmit(msg::encode(resp)));
                if self.phase == Phase::Answered {
                    self.stop_media(now);
                    self.result = Some((FinalState::Answered, false, None));
                    self.times.end = Some(now);
                }
                if self.phase != Phase::Done {
                    self.finish(now);
                }
                return;
            }
            Method::Invite => {
                let resp = self.on_reinvite(&req);
                let ok = (200..300).contains(&resp.status_code.code());
                let bytes = msg::encode(resp);
                if ok && !self.reliable {
                    self.reinvite_2xx =
                        cseq.map(|n| Pending2xx::new(now, bytes.clone(), n, self.p.t1));
                }
                self.out.push_back(CallOutput::Transmit(bytes));
                return;
            }
            Method::Options | Method::Info | Method::Update | Method::Notify => {
                self.dialog.respond(&req, 200)
            }
            _ => self.dialog.respond(&req, 501),
        };
        self.out.push_back(CallOutput::Transmit(msg::encode(resp)));
    }

    /// A re-INVITE (session refresh, hold, media move). With an offer: answer with the codec
    /// we already send if it is still offered, follow a new remote address, 488 if nothing
    /// usable is offered. Without one (delayed offer): offer our session again.
    fn on_reinvite(&mut self, req: &Request) -> Response {
        let (ip, port) = (self.p.rtp_addr.ip(), self.p.rtp_addr.port());
        if req.body.is_empty() {
            self.sdp_version += 1;
            let mut resp = self.dialog.respond(req, 200);
            msg::push::<rsip::headers::ContentType>(&mut resp.headers, "application/sdp");
            resp.body = sdp::offer(ip, port, self.sdp_version);
            return resp;
        }
        let Ok(mut theirs) = sdp::parse_answer(&req.body) else {
            return self.dialog.respond(req, 488);
        };
        if let Some(cur) = self.media
            && sdp::offers(&req.body, cur.codec)
        {
            theirs.codec = cur.codec;
        }
        self.sdp_version += 1;
        let mut resp = self.dialog.respond(req, 200);
        msg::push::<rsip::headers::ContentType>(&mut resp.headers, "application/sdp");
        resp.body = sdp::answer(ip, port, self.sdp_version, &theirs);
        if self.phase == Phase::Answered && self.media != Some(theirs) {
            self.media = Some(theirs);
            self.out.push_back(CallOutput::MediaChanged(theirs));
        }
        resp
    }

    pub(super) fn on_invite_response(&mut self, now: Instant, r: Response) {
        let code = r.status_code.code();
        if self.phase == Phase::Done && code >= 300 {
            return;
        }
        match code {
            100..=199 => {
                self.provisional = true;
                self.dialog.on_invite_response(&r);
                if code != 100 && self.times.ring.is_none() {
                    self.times.ring = Some(now);
                    self.out.push_back(CallOutput::Ringing);
                }
                self.maybe_cancel(now);
            }
            200..=299 => self.on_answer(now, r),
            401 | 407 if !self.auth_tried && self.p.credentials.is_some() => {
                self.retry_with_auth(now, &r)
            }
            _ => {
                self.status = code;
                let (state, retry) = classify(code, self.cancel);
                let why = if matches!(code, 401 | 407) {
                    "sip:{code}-auth-failed"
                } else {
                    "sip:{code}"
                };
                self.result = Some((state, retry, Some(why.replace("{code}", &code.to_string()))));
                self.finish(now);
            }
        }
    }

    fn on_answer(&mut self, now: Instant, r: Response) {
        if self.phase == Phase::Done {
            // Answered after we already gave up (CANCEL guard): ACK and hang up, quietly.
            self.dialog.on_invite_response(&r);
            let seq = msg::cseq(&r.clone().into())
                .map(|c| c.0)
                .unwrap_or(self.dialog.local_cseq());
            self.out
                .push_back(CallOutput::Transmit(msg::encode(self.dialog.ack(seq))));
            let bye = self.dialog.request(Method::Bye);
            self.bye_tx = Some(self.transaction(now, bye));
            return;
        }
        self.status = r.status_code.code();
        self.dialog.on_invite_response(&r);
        let seq = msg::cseq(&r.clone().into())
            .map(|c| c.0)
            .unwrap_or(self.dialog.local_cseq());
        let ack = msg::encode(self.dialog.ack(seq));
        self.out.push_back(CallOutput::Transmit(ack.clone()));
        self.last_ack = Some(ack);
        self.times.answer = Some(now);
        if self.cancel.is_some() {
            self.send_bye(
                now,
                (
                    FinalState::Answered,
                    false,
                    Some("sip:200-after-cancel".into()),
                ),
            );
            return;
        }
        match sdp::parse_answer(&r.body) {
            Ok(m) => {
                self.phase = Phase::Answered;
                self.media = Some(m);
                self.out.push_back(CallOutput::StartMedia(m));
            }
            Err(e) => self.send_bye(now, (FinalState::Failed, false, Some(format!("sdp: {e}")))),
        }
    }

    fn retry_with_auth(&mut self, now: Instant, r: &Response) {
        self.auth_tried = true;
        let code = r.status_code.code();
        let (name, wrap): (&str, fn(String) -> Credential) = if code == 401 {
            ("WWW-Authenticate", Credential::Authorization)
        } else {
            ("Proxy-Authenticate", Credential::ProxyAuthorization)
        };
        let creds = self.p.credentials.clone();
        let answer = msg::header_value(&r.headers, name)
            .zip(creds.as_ref())
            .map(|(ch, c)| digest::authorize(ch, "INVITE", &self.p.to_uri, c, None));
        match answer {
            Some(Ok(value)) => {
                let req = self.dialog.invite(self.offer.clone(), Some(wrap(value)));
                if let Some(old) = &self.invite_tx {
                    self.retransmits += old.retransmits();
                }
                self.invite_tx = Some(self.transaction(now, req));
                self.provisional = false;
            }
            Some(Err(e)) => {
                self.status = code;
                self.result = Some((FinalState::Failed, false, Some(format!("sip:{code} {e}"))));
                self.finish(now);
            }
            None => {
                self.status = code;
                self.result = Some((
                    FinalState::Failed,
                    false,
                    Some(format!("sip:{code} no challenge")),
                ));
                self.finish(now);
            }
        }
    }

    /// Resend our 2xx to a re-INVITE until its ACK; 64·T1 without one ends the call with BYE
    /// (RFC 3261 §13.3.1.4).
    pub(super) fn reinvite_2xx_timeout(&mut self, now: Instant) {
        let Some(p) = self.reinvite_2xx.as_mut() else {
            return;
        };
        if self.phase == Phase::Done || p.poll_timeout() > now {
            return;
        }
        match p.handle_timeout(now) {
            Due::Nothing => {}
            Due::Resend(b) => {
                self.retransmits += 1;
                self.out.push_back(CallOutput::Transmit(b));
            }
            Due::GiveUp => {
                self.reinvite_2xx = None;
                if self.phase == Phase::Answered {
                    tracing::warn!("No ACK for our 2xx to the trunk's re-INVITE; ending the call.");
                    let error = Some("sip:reinvite-no-ack".into());
                    self.send_bye(now, (FinalState::Answered, false, error));
                }
            }
        }
    }
}
