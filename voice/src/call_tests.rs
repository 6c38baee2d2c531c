//! The call state machine against a scripted in-memory UAS on a virtual clock.

use super::*;
use crate::sdp::Codec;
use crate::sip::msg;
use rsip::headers as h;

const T1: Duration = Duration::from_millis(500);
const SDP_ANSWER: &[u8] =
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

fn params() -> CallParams {
    CallParams {
        from_uri: "sip:777@127.0.0.1".into(),
        to_uri: "sip:77011234567@127.0.0.1:5090".into(),
        local_sip: "127.0.0.1:5060".parse().unwrap(),
        rtp_addr: "127.0.0.1:20000".parse().unwrap(),
        t1: T1,
        ring_timeout: Duration::from_secs(30),
        min_ring_time: Duration::from_secs(20),
        credentials: None,
        prompt_ms: 3000,
        repeat: 2,
    }
}

struct Harness {
    call: Call,
    t0: Instant,
    now: Instant,
}

impl Harness {
    fn start(p: CallParams) -> (Self, Vec<CallOutput>) {
        let t0 = Instant::now();
        let mut call = Call::new(p).unwrap();
        call.start(t0);
        let mut h = Harness { call, t0, now: t0 };
        let out = h.drain();
        (h, out)
    }

    fn drain(&mut self) -> Vec<CallOutput> {
        std::iter::from_fn(|| self.call.poll_output()).collect()
    }

    fn at(&mut self, secs: f64) -> Vec<CallOutput> {
        let until = self.t0 + Duration::from_secs_f64(secs);
        let mut out = Vec::new();
        while let Some(t) = self.call.poll_timeout() {
            if t > until {
                break;
            }
            self.now = t;
            self.call.handle_timeout(t);
            out.extend(self.drain());
        }
        self.now = until;
        out
    }

    fn recv(&mut self, m: impl Into<SipMessage>) -> Vec<CallOutput> {
        self.call.handle_sip(self.now, m.into());
        self.drain()
    }
}

fn sent(out: &[CallOutput]) -> Vec<Request> {
    out.iter()
        .filter_map(|o| match o {
            CallOutput::Transmit(b) => match msg::parse(b).unwrap() {
                SipMessage::Request(r) => Some(r),
                SipMessage::Response(_) => None,
            },
            _ => None,
        })
        .collect()
}

fn sent_responses(out: &[CallOutput]) -> Vec<u16> {
    out.iter()
        .filter_map(|o| match o {
            CallOutput::Transmit(b) => msg::status(&msg::parse(b).unwrap()),
            _ => None,
        })
        .collect()
}

fn ended(out: &[CallOutput]) -> Option<CallEnd> {
    out.iter().find_map(|o| match o {
        CallOutput::Ended(e) => Some((**e).clone()),
        _ => None,
    })
}

fn reply(req: &Request, status: u16) -> Response {
    let mut r = msg::response_to(req, status, Some("uas1"));
    if (200..300).contains(&status) && req.method == Method::Invite {
        msg::push::<h::Contact>(&mut r.headers, "<sip:uas@127.0.0.1:5090>");
        msg::push::<h::ContentType>(&mut r.headers, "application/sdp");
        r.body = SDP_ANSWER.to_vec();
    }
    r
}

/// A request from the callee inside the dialog, with CSeq `seq`.
fn in_dialog(method: Method, seq: u32) -> Request {
    let mut r = crate::sip::transaction::tests_support::request(method, &msg::new_branch());
    r.headers.retain(|x| !matches!(x, rsip::Header::CSeq(_)));
    msg::push::<h::CSeq>(&mut r.headers, format!("{seq} {method}"));
    r
}

fn invite_of(out: &[CallOutput]) -> Request {
    sent(out)
        .into_iter()
        .find(|r| r.method == Method::Invite)
        .expect("an INVITE")
}

#[test]
fn answered_call_acks_plays_then_byes_after_the_prompt() {
    let (mut h, out) = Harness::start(params());
    assert!(matches!(out[0], CallOutput::InviteSent));
    let inv = invite_of(&out);
    assert!(String::from_utf8_lossy(&inv.body).contains("RTP/AVP 8 0 101"));
    h.at(0.1);
    assert_eq!(h.recv(reply(&inv, 100)), vec![]);
    assert_eq!(h.recv(reply(&inv, 180)), vec![CallOutput::Ringing]);
    h.at(2.0);
    let out = h.recv(reply(&inv, 200));
    let acks = sent(&out);
    assert_eq!(acks[0].method, Method::Ack);
    assert_eq!(acks[0].uri.to_string(), "sip:uas@127.0.0.1:5090");
    let CallOutput::StartMedia(m) = &out[1] else {
        panic!("{out:?}")
    };
    assert_eq!(m.remote, "127.0.0.1:40000".parse().unwrap());
    h.call.handle_digit('5', 1200);
    h.at(8.0);
    h.call.handle_media_done(h.now);
    let out = h.drain();
    assert_eq!(out[0], CallOutput::StopMedia);
    let bye = sent(&out).pop().unwrap();
    assert_eq!(bye.method, Method::Bye);
    let out = h.recv(reply(&bye, 200));
    let end = ended(&out).expect("ended after BYE's 200");
    assert_eq!(end.state, FinalState::Answered);
    assert_eq!(end.sip_status, 200);
    assert_eq!(end.heard_ms, 6000);
    assert_eq!(end.billable_seconds, 6);
    assert_eq!(end.digits, vec![('5', 1200)]);
    assert_eq!(end.times.ring, Some(h.t0 + Duration::from_millis(100)));
    assert!(!end.retry);
    assert!(h.call.is_finished());
}

#[test]
fn busy_is_acked_and_retried_decline_is_not() {
    for (code, state, retry) in [
        (486, FinalState::Busy, true),
        (603, FinalState::Rejected, false),
        (404, FinalState::InvalidNumber, false),
        (480, FinalState::NoAnswer, true),
        (503, FinalState::Failed, true),
    ] {
        let (mut h, out) = Harness::start(params());
        let inv = invite_of(&out);
        let out = h.recv(reply(&inv, code));
        assert_eq!(sent(&out)[0].method, Method::Ack, "{code}");
        let end = ended(&out).unwrap();
        assert_eq!((end.state, end.retry, end.sip_status), (state, retry, code));
        assert_eq!(end.error, Some(format!("sip:{code}")));
    }
}

#[test]
fn ring_timeout_cancels_not_before_the_minimum_ring_time_then_487_is_no_answer() {
    let mut p = params();
    p.ring_timeout = Duration::from_secs(30);
    let (mut h, out) = Harness::start(p);
    let inv = invite_of(&out);
    h.at(15.0);
    h.recv(reply(&inv, 180)); // rings from 15 s: no CANCEL before 35 s
    assert!(
        sent(&h.at(34.9)).is_empty(),
        "no CANCEL before min ring time"
    );
    let out = h.at(35.0);
    let cancel = sent(&out).pop().expect("CANCEL at 35 s");
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(
        msg::branch(&cancel.clone().into()),
        msg::branch(&inv.clone().into())
    );
    h.recv(reply(&cancel, 200));
    let out = h.recv(reply(&inv, 487));
    assert_eq!(sent(&out)[0].method, Method::Ack);
    let end = ended(&out).unwrap();
    assert_eq!(
        (end.state, end.retry, end.sip_status),
        (FinalState::NoAnswer, true, 487)
    );
}

#[test]
fn two_hundred_racing_cancel_is_acked_and_byed() {
    let (mut h, out) = Harness::start(params());
    let inv = invite_of(&out);
    h.recv(reply(&inv, 183));
    h.at(21.0);
    h.call.hangup(h.now);
    let cancel = sent(&h.drain()).pop().expect("CANCEL after min ring");
    assert_eq!(cancel.method, Method::Cancel);
    let out = h.recv(reply(&inv, 200));
    let reqs = sent(&out);
    assert_eq!(
        reqs.iter().map(|r| r.method).collect::<Vec<_>>(),
        vec![Method::Ack, Method::Bye]
    );
    assert!(!out.iter().any(|o| matches!(o, CallOutput::StartMedia(_))));
    let out = h.recv(reply(&reqs[1], 200));
    let end = ended(&out).unwrap();
    assert_eq!(end.state, FinalState::Answered);
    assert_eq!(end.heard_ms, 0);
    assert_eq!(end.error.as_deref(), Some("sip:200-after-cancel"));
}

#[test]
fn shutdown_cancel_of_a_ringing_call_reports_cancelled() {
    let (mut h, out) = Harness::start(params());
    let inv = invite_of(&out);
    h.recv(reply(&inv, 180));
    h.call.hangup(h.now);
    assert!(sent(&h.drain()).is_empty(), "ringing for 0 s: CANCEL waits");
    let cancel = sent(&h.at(20.0)).pop().expect("CANCEL at min ring");
    h.recv(reply(&cancel, 200));
    let end = ended(&h.recv(reply(&inv, 487))).unwrap();
    assert_eq!((end.state, end.retry), (FinalState::Cancelled, false));
}

#[test]
fn auth_challenge_is_answered_exactly_once() {
    let mut p = params();
    p.credentials = Some(Credentials {
        user: "u".into(),
        password: "p".into(),
    });
    let (mut h, out) = Harness::start(p);
    let inv = invite_of(&out);
    let mut chal = reply(&inv, 407);
    msg::push::<h::ProxyAuthenticate>(
        &mut chal.headers,
        r#"Digest realm="t", nonce="n1", qop="auth", algorithm=SHA-256"#,
    );
    let out = h.recv(chal.clone());
    let reqs = sent(&out);
    assert_eq!(reqs[0].method, Method::Ack);
    let inv2 = &reqs[1];
    let text = msg::encode(inv2.clone());
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("Proxy-Authorization: Digest") && text.contains("CSeq: 2 INVITE"),
        "{text}"
    );
    assert!(text.contains("algorithm=SHA-256"), "{text}");
    let mut chal2 = reply(inv2, 407);
    msg::push::<h::ProxyAuthenticate>(&mut chal2.headers, r#"Digest realm="t", nonce="n2""#);
    let out = h.recv(chal2);
    assert_eq!(sent(&out).len(), 1, "only the ACK, no third INVITE");
    let end = ended(&out).unwrap();
    assert_eq!(
        (end.state, end.retry, end.sip_status),
        (FinalState::Failed, false, 407)
    );
}

#[test]
fn no_response_times_out_with_timer_b_as_a_temporary_failure() {
    let (mut h, out) = Harness::start(params());
    let _ = invite_of(&out);
    let out = h.at(40.0);
    assert_eq!(sent(&out).len(), 6, "Timer A retransmissions");
    let end = ended(&out).unwrap();
    assert_eq!(
        (end.state, end.retry, end.sip_status),
        (FinalState::Failed, true, 408)
    );
}

#[test]
fn remote_bye_options_and_reinvite_are_answered() {
    let (mut h, out) = Harness::start(params());
    let inv = invite_of(&out);
    h.at(1.0);
    h.recv(reply(&inv, 200));
    h.at(2.0);
    assert_eq!(
        sent_responses(&h.recv(in_dialog(Method::Options, 1))),
        vec![200]
    );
    let out = h.recv(in_dialog(Method::Invite, 2));
    let CallOutput::Transmit(b) = &out[0] else {
        panic!()
    };
    let text = String::from_utf8_lossy(b);
    assert!(
        text.starts_with("SIP/2.0 200") && text.contains("m=audio 20000"),
        "{text}"
    );
    h.at(2.5);
    let out = h.recv(in_dialog(Method::Bye, 3));
    assert_eq!(sent_responses(&out), vec![200]);
    assert!(out.contains(&CallOutput::StopMedia));
    let end = ended(&out).unwrap();
    assert_eq!(end.state, FinalState::Answered);
    assert_eq!(end.heard_ms, 1500);
    assert_eq!(end.billable_seconds, 2);
}

#[test]
fn retransmitted_2xx_gets_the_same_ack_again() {
    let (mut h, out) = Harness::start(params());
    let inv = invite_of(&out);
    let first = sent(&h.recv(reply(&inv, 200)));
    let again = sent(&h.recv(reply(&inv, 200)));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0], first[0]);
}

#[test]
fn unusable_answer_sdp_ends_the_call_with_bye() {
    let (mut h, out) = Harness::start(params());
    let inv = invite_of(&out);
    let mut r = reply(&inv, 200);
    r.body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n".to_vec();
    let reqs = sent(&h.recv(r));
    assert_eq!(reqs[1].method, Method::Bye);
    let end = ended(&h.recv(reply(&reqs[1], 200))).unwrap();
    assert_eq!(end.state, FinalState::Failed);
    assert!(end.error.unwrap().starts_with("sdp:"));
}

#[test]
fn reinvite_offer_moving_media_is_answered_with_the_current_codec_and_followed() {
    let (mut h, out) = Harness::start(params());
    let inv = invite_of(&out);
    h.recv(reply(&inv, 200));
    let reinvite = |body: &[u8], seq: u32| {
        let mut r = in_dialog(Method::Invite, seq);
        r.body = body.to_vec();
        r
    };
    let moved = b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.9\r\nt=0 0\r\n\
m=audio 41000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    let out = h.recv(reinvite(moved, 1));
    let CallOutput::MediaChanged(m) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(m.remote, "127.0.0.9:41000".parse().unwrap());
    assert_eq!(m.codec, Codec::Pcma, "keeps the codec already in use");
    let CallOutput::Transmit(b) = &out[1] else {
        panic!("{out:?}")
    };
    let text = String::from_utf8_lossy(b);
    assert!(
        text.starts_with("SIP/2.0 200") && text.contains("m=audio 20000 RTP/AVP 8 101\r\n"),
        "{text}"
    );
    // The same offer again (a session refresh) changes nothing.
    let out = h.recv(reinvite(moved, 2));
    assert!(!out.iter().any(|o| matches!(o, CallOutput::MediaChanged(_))));
    let g729 = b"v=0\r\no=- 1 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.9\r\nt=0 0\r\nm=audio 41000 RTP/AVP 18\r\n";
    assert_eq!(sent_responses(&h.recv(reinvite(g729, 3))), vec![488]);
}

#[path = "call_reinvite_tests.rs"]
mod reinvite;
