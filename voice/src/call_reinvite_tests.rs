//! Our 2xx to the trunk's re-INVITE is resent until its ACK (RFC 3261 §13.3.1.4), on the
//! virtual clock.

use super::*;

fn reinvite(seq: u32) -> Request {
    in_dialog(Method::Invite, seq)
}

fn ack(seq: u32) -> Request {
    in_dialog(Method::Ack, seq)
}

fn transmits(out: &[CallOutput]) -> Vec<Bytes> {
    out.iter()
        .filter_map(|o| match o {
            CallOutput::Transmit(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

/// An answered call with a long prompt, so nothing else is due for a minute.
fn answered() -> Harness {
    let p = CallParams {
        prompt_ms: 60_000,
        ..params()
    };
    let (mut h, out) = Harness::start(p);
    let inv = invite_of(&out);
    h.recv(reply(&inv, 200));
    h
}

#[test]
fn the_2xx_is_resent_at_t1_doubling_until_the_ack_then_never_again() {
    let mut h = answered();
    let answer = transmits(&h.recv(reinvite(5)));
    assert_eq!(answer.len(), 1);
    assert!(answer[0].starts_with(b"SIP/2.0 200"));
    // T1 = 500 ms: resent at 0.5, 1.5 and 3.5 s after the re-INVITE, the same bytes.
    let resent = transmits(&h.at(3.6));
    assert_eq!(resent.len(), 3, "resent at 0.5, 1.5 and 3.5 s");
    assert!(resent.iter().all(|b| *b == answer[0]));
    // An ACK of another CSeq does not stop it; the right one does.
    h.recv(ack(4));
    assert_eq!(transmits(&h.at(7.6)).len(), 1, "resent at 7.5 s");
    h.recv(ack(5));
    assert!(transmits(&h.at(40.0)).is_empty(), "nothing after the ACK");
}

#[test]
fn a_resent_reinvite_gets_the_same_2xx_not_a_new_answer() {
    let mut h = answered();
    let first = transmits(&h.recv(reinvite(2)));
    let again = transmits(&h.recv(reinvite(2)));
    assert_eq!(again, first, "same bytes, same SDP version");
}

#[test]
fn no_ack_for_64_t1_ends_the_call_with_bye() {
    let mut h = answered();
    h.recv(reinvite(3));
    let out = h.at(32.1);
    let byes: Vec<_> = sent(&out)
        .into_iter()
        .filter(|r| r.method == Method::Bye)
        .collect();
    assert_eq!(byes.len(), 1, "a BYE once the 2xx was given up");
    let end = ended(&h.recv(reply(&byes[0], 200))).unwrap();
    assert_eq!(end.state, FinalState::Answered);
    assert_eq!(end.error.as_deref(), Some("sip:reinvite-no-ack"));
}
