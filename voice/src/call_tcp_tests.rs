//! A call over TCP, on a virtual clock: nothing is retransmitted, and a lost connection
//! ends a ringing call at once as a temporary failure (503, retried).

use super::*;
use crate::sip::msg;

fn params() -> CallParams {
    CallParams {
        from_uri: "sip:777@127.0.0.1".into(),
        to_uri: "sip:77011234567@127.0.0.1:5090;transport=tcp".into(),
        local_sip: "127.0.0.1:40123".parse().unwrap(),
        rtp_addr: "127.0.0.1:20000".parse().unwrap(),
        t1: Duration::from_millis(500),
        ring_timeout: Duration::from_secs(30),
        min_ring_time: Duration::from_secs(20),
        credentials: None,
        prompt_ms: 3000,
        repeat: 1,
    }
}

fn drain(call: &mut Call) -> Vec<CallOutput> {
    std::iter::from_fn(|| call.poll_output()).collect()
}

fn invite_of(out: &[CallOutput]) -> Request {
    out.iter()
        .find_map(|o| match o {
            CallOutput::Transmit(b) => match msg::parse(b).unwrap() {
                SipMessage::Request(r) if r.method == Method::Invite => Some(r),
                _ => None,
            },
            _ => None,
        })
        .expect("an INVITE went out")
}

#[test]
fn a_lost_connection_ends_a_ringing_call_at_once_as_a_retryable_503() {
    let t0 = Instant::now();
    let mut call = Call::over(params(), SipTransport::Tcp).unwrap();
    call.start(t0);
    let invite = invite_of(&drain(&mut call));
    let text = String::from_utf8(msg::encode(invite.clone()).to_vec()).unwrap();
    assert!(
        text.contains("Via: SIP/2.0/TCP 127.0.0.1:40123;branch="),
        "{text}"
    );
    // No Timer A: the first due timer is Timer B (64*T1), not a retransmission at T1.
    assert_eq!(
        call.poll_timeout(),
        Some(t0 + Duration::from_secs(30)),
        "ring timeout first"
    );
    call.handle_timeout(t0 + Duration::from_secs(1));
    assert!(
        drain(&mut call).is_empty(),
        "nothing retransmitted over TCP"
    );

    call.handle_sip(
        t0 + Duration::from_secs(2),
        msg::response_to(&invite, 180, Some("r")).into(),
    );
    assert_eq!(drain(&mut call), vec![CallOutput::Ringing]);
    call.handle_transport_error(t0 + Duration::from_secs(3));
    let out = drain(&mut call);
    let Some(CallOutput::Ended(end)) = out.last() else {
        panic!("the call ended: {out:?}")
    };
    assert_eq!(end.state, FinalState::Failed);
    assert!(end.retry, "a transport failure is temporary");
    assert_eq!(end.sip_status, 503);
    assert_eq!(end.error.as_deref(), Some("sip:transport-error"));
    assert!(call.is_finished());
    assert_eq!(call.retransmits(), 0);
}

#[test]
fn a_transport_error_after_the_answer_leaves_the_call_playing() {
    let t0 = Instant::now();
    let mut call = Call::over(params(), SipTransport::Tcp).unwrap();
    call.start(t0);
    let invite = invite_of(&drain(&mut call));
    let mut ok = msg::response_to(&invite, 200, Some("r"));
    ok.body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 8\r\n"
        .to_vec();
    call.handle_sip(t0, ok.into());
    assert!(
        drain(&mut call)
            .iter()
            .any(|o| matches!(o, CallOutput::StartMedia(_)))
    );
    call.handle_transport_error(t0 + Duration::from_secs(1));
    assert!(drain(&mut call).is_empty(), "no transaction was waiting");
    assert!(!call.is_done());
}
