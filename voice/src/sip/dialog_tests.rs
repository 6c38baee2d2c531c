//! Dialog construction and in-dialog requests.

use super::*;
use rsip::SipMessage;

fn dialog() -> Dialog {
    Dialog::new(
        "sip:777@sendbox.kz",
        "sip:77011234567@10.0.0.2:5060",
        "10.0.0.1:5062".parse().unwrap(),
    )
    .unwrap()
}

fn answer(invite: &Request, extra: &str) -> Response {
    let mut r = msg::response_to(invite, 200, Some("rt1"));
    msg::push::<h::Contact>(&mut r.headers, "<sip:callee@10.0.0.9:5070>");
    if !extra.is_empty() {
        for rr in extra.split('|') {
            msg::push::<h::RecordRoute>(&mut r.headers, rr);
        }
    }
    r
}

fn text(r: impl Into<SipMessage>) -> String {
    String::from_utf8(msg::encode(r).to_vec()).unwrap()
}

#[test]
fn invite_then_2xx_sets_remote_tag_target_and_reversed_route_set() {
    let mut d = dialog();
    let inv = d.invite(b"sdp".to_vec(), None);
    assert_eq!(d.local_cseq(), 1);
    assert!(!text(inv.clone()).contains(";tag=rt1"));
    assert!(d.on_invite_response(&answer(&inv, "<sip:p1.example;lr>|<sip:p2.example;lr>")));
    assert!(d.is_confirmed());
    assert_eq!(d.remote_tag(), Some("rt1"));
    let bye = d.request(Method::Bye);
    assert_eq!(
        bye.uri.to_string(),
        "sip:callee@10.0.0.9:5070",
        "remote target from Contact"
    );
    let t = text(bye.clone());
    assert!(t.contains("CSeq: 2 BYE"), "{t}");
    assert!(t.contains(";tag=rt1"), "{t}");
    let p2 = t.find("p2.example").unwrap();
    let p1 = t.find("p1.example").unwrap();
    assert!(p2 < p1, "UAC route set is the Record-Route reversed: {t}");
    assert_ne!(
        msg::branch(&bye.into()).unwrap(),
        msg::branch(&inv.into()).unwrap()
    );
}

#[test]
fn ack_of_2xx_uses_invite_cseq_and_a_new_branch() {
    let mut d = dialog();
    let inv = d.invite(Vec::new(), None);
    d.on_invite_response(&answer(&inv, ""));
    let ack = d.ack(1);
    assert_eq!(msg::cseq(&ack.clone().into()).unwrap(), (1, Method::Ack));
    assert_ne!(
        msg::branch(&ack.into()).unwrap(),
        msg::branch(&inv.into()).unwrap()
    );
}

#[test]
fn cancel_reuses_the_invite_branch_and_cseq_number() {
    let mut d = dialog();
    let inv = d.invite(Vec::new(), None);
    let c = Dialog::cancel(&inv);
    assert_eq!(msg::cseq(&c.clone().into()).unwrap(), (1, Method::Cancel));
    assert_eq!(
        msg::branch(&c.clone().into()).unwrap(),
        msg::branch(&inv.clone().into()).unwrap()
    );
    assert_eq!(c.uri, inv.uri);
}

#[test]
fn auth_retry_increments_cseq_and_carries_the_credential() {
    let mut d = dialog();
    let _ = d.invite(Vec::new(), None);
    let again = d.invite(
        Vec::new(),
        Some(Credential::ProxyAuthorization("Digest x".into())),
    );
    let t = text(again);
    assert!(
        t.contains("CSeq: 2 INVITE") && t.contains("Proxy-Authorization: Digest x"),
        "{t}"
    );
}

#[test]
fn in_dialog_requests_are_answered_and_old_cseq_refused() {
    let mut d = dialog();
    let inv = d.invite(Vec::new(), None);
    d.on_invite_response(&answer(&inv, ""));
    let mut bye = crate::sip::transaction::tests_support::request(Method::Bye, "z9hG4bKr");
    bye.headers.retain(|h| !matches!(h, Header::CSeq(_)));
    msg::push::<h::CSeq>(&mut bye.headers, "5 BYE");
    assert_eq!(d.respond(&bye, 200).status_code.code(), 200);
    let mut old = bye.clone();
    old.headers.retain(|h| !matches!(h, Header::CSeq(_)));
    msg::push::<h::CSeq>(&mut old.headers, "4 OPTIONS");
    assert_eq!(d.respond(&old, 200).status_code.code(), 500);
}

#[test]
fn forked_2xx_from_another_tag_is_refused_after_confirmation() {
    let mut d = dialog();
    let inv = d.invite(Vec::new(), None);
    d.on_invite_response(&answer(&inv, ""));
    let other = msg::response_to(&inv, 200, Some("other"));
    assert!(!d.on_invite_response(&other));
}

#[test]
fn over_tcp_via_says_tcp_with_our_sent_by_and_contact_carries_transport_tcp() {
    let mut d = dialog().with_transport(crate::config::SipTransport::Tcp);
    let t = text(d.invite(Vec::new(), None));
    assert!(
        t.contains("Via: SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bK"),
        "{t}"
    );
    assert!(!t.contains("rport"), "{t}");
    assert!(
        t.contains("Contact: <sip:sendbox@10.0.0.1:5062;transport=tcp>"),
        "{t}"
    );
    let udp = text(dialog().invite(Vec::new(), None));
    assert!(
        udp.contains("Via: SIP/2.0/UDP 10.0.0.1:5062;branch="),
        "{udp}"
    );
    assert!(
        udp.contains(";rport") && !udp.contains("transport=tcp"),
        "{udp}"
    );
}
