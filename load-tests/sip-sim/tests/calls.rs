//! Loopback call scenarios against the simulator with a minimal rsip UAC.

mod common;

use std::time::Duration;

use common::{InviteOpts, Uac, answer_rtp, code, stream_rtp};
use digest_auth::{AuthContext, HttpMethod, WwwAuthenticateHeader};
use rsip::prelude::*;
use rsip::{Header, SipMessage};
use sendbox_sip_sim::{Behaviour, CallResult, DigestAlgorithm, Hangup, SimHandle, SipSimBuilder};
use tokio::sync::oneshot;

async fn start(b: SipSimBuilder) -> (SimHandle, oneshot::Sender<()>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let h = b
        .build()
        .spawn(socket, async move { drop(rx.await) })
        .unwrap();
    (h, tx)
}

fn opts(cseq: u32, branch: &str, sdp: Option<String>) -> InviteOpts<'_> {
    InviteOpts {
        cseq,
        branch,
        auth: None,
        sdp,
    }
}

/// Wait until `check` holds on the stats (the sim updates them asynchronously).
async fn eventually(
    h: &SimHandle,
    check: impl Fn(&sendbox_sip_sim::SimStats) -> bool,
) -> sendbox_sip_sim::SimStats {
    for _ in 0..100 {
        let s = h.stats();
        if check(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("stats never matched: {:?}", h.stats());
}

#[tokio::test]
async fn answered_call_counts_rtp_and_ends_on_caller_bye() {
    let (sim, _stop) = start(
        sendbox_sip_sim::SipSim::builder()
            .default(Behaviour::answer_after(Duration::from_millis(50))),
    )
    .await;
    let uac = Uac::new(sim.addr(), "77011234567").await;
    uac.invite(opts(1, "z9hG4bKa1", Some(uac.offer()))).await;
    assert_eq!(code(&uac.response().await), 100);
    let ringing = uac.response().await;
    assert_eq!(code(&ringing), 180);
    let ok = uac.response().await;
    assert_eq!(code(&ok), 200);
    let tag = ok
        .to_header()
        .unwrap()
        .tag()
        .unwrap()
        .expect("200 OK has a To tag");
    assert_eq!(ringing.to_header().unwrap().tag().unwrap(), Some(tag));
    let body = String::from_utf8_lossy(&ok.body).to_string();
    assert!(
        body.contains("m=audio ") && body.contains(" RTP/AVP 8 101\r\n"),
        "{body}"
    );
    uac.ack(&ok, 1, "z9hG4bKa1ack", None).await;
    stream_rtp(&uac.rtp, answer_rtp(&ok), 20).await;
    uac.bye(&ok, 2).await;
    let bye_ok = uac.response().await;
    assert_eq!(
        (
            code(&bye_ok),
            bye_ok.cseq_header().unwrap().method().unwrap()
        ),
        (200, rsip::Method::Bye)
    );
    let s = eventually(&sim, |s| s.per_call.len() == 1).await;
    assert_eq!(
        (
            s.calls_received,
            s.answered,
            s.byes_received,
            s.active_calls
        ),
        (1, 1, 1, 0)
    );
    let rec = &s.per_call[0];
    assert_eq!(
        (rec.number.as_str(), rec.result, rec.hangup),
        ("77011234567", CallResult::Answered, Some(Hangup::Caller))
    );
    assert_eq!(
        (rec.rtp_packets, rec.rtp_lost, rec.payload_type),
        (20, 0, Some(8))
    );
    assert!(rec.first_marker_seen && rec.seq_ok && rec.ts_ok);
    assert_eq!(s.rtp_packets, 20);
    assert_eq!(s.interarrival.count, 19);
}

#[tokio::test]
async fn busy_number_gets_486_and_the_ack_stops_retransmission() {
    let b = sendbox_sip_sim::SipSim::builder().rule("*0486", Behaviour::Busy(486));
    let (sim, _stop) = start(b).await;
    let uac = Uac::new(sim.addr(), "77010000486").await;
    uac.invite(opts(1, "z9hG4bKb1", Some(uac.offer()))).await;
    let busy = uac.final_response().await;
    assert_eq!(code(&busy), 486);
    assert!(busy.to_header().unwrap().tag().unwrap().is_some());
    uac.ack(&busy, 1, "z9hG4bKb1", None).await;
    assert!(
        uac.silent_for(Duration::from_millis(700)).await,
        "486 retransmitted after ACK"
    );
    let s = eventually(&sim, |s| s.busy == 1).await;
    assert_eq!(s.per_call[0].result, CallResult::Busy(486));
}

#[tokio::test]
async fn final_response_is_retransmitted_until_ack() {
    let (sim, _stop) =
        start(sendbox_sip_sim::SipSim::builder().default(Behaviour::Reject(503))).await;
    let uac = Uac::new(sim.addr(), "77010000503").await;
    uac.invite(opts(1, "z9hG4bKr1", None)).await;
    let first = uac.final_response().await;
    let again = uac.final_response().await; // Timer G, ~500 ms later
    assert_eq!((code(&first), code(&again)), (503, 503));
}

fn digest(challenge: &str, user: &str, pass: &str, uri: &str) -> String {
    let mut prompt = WwwAuthenticateHeader::parse(challenge).unwrap();
    let ctx =
        AuthContext::new_with_method(user, pass, uri, None::<&[u8]>, HttpMethod("INVITE".into()));
    prompt.respond(&ctx).unwrap().to_header_string()
}

async fn challenged_call(
    kind: u16,
    algorithm: DigestAlgorithm,
    password: &str,
) -> (rsip::Response, sendbox_sip_sim::SimStats) {
    let b = sendbox_sip_sim::SipSim::builder()
        .default(Behaviour::Challenge {
            realm: "kz".into(),
            kind,
            algorithm,
            then: Box::new(Behaviour::answer()),
        })
        .credentials("trunk", "s3cret");
    let (sim, _stop) = start(b).await;
    let uac = Uac::new(sim.addr(), "77015550001").await;
    uac.invite(opts(1, "z9hG4bKc1", Some(uac.offer()))).await;
    let ch = uac.final_response().await;
    assert_eq!(code(&ch), kind);
    uac.ack(&ch, 1, "z9hG4bKc1", None).await;
    let value = ch
        .headers
        .iter()
        .find_map(|h| match h {
            Header::WwwAuthenticate(v) if kind == 401 => Some(v.value().to_owned()),
            Header::ProxyAuthenticate(v) if kind == 407 => Some(v.value().to_owned()),
            _ => None,
        })
        .expect("challenge header");
    let name = if kind == 401 {
        "Authorization"
    } else {
        "Proxy-Authorization"
    };
    let auth = digest(&value, "trunk", password, &uac.uri());
    uac.invite(InviteOpts {
        cseq: 2,
        branch: "z9hG4bKc2",
        auth: Some((name, auth)),
        sdp: Some(uac.offer()),
    })
    .await;
    let fin = uac.final_response().await;
    uac.ack(
        &fin,
        2,
        if code(&fin) == 200 {
            "z9hG4bKc2ack"
        } else {
            "z9hG4bKc2"
        },
        None,
    )
    .await;
    let s = eventually(&sim, |s| s.answered + s.auth_failures == 1).await;
    (fin, s)
}

#[tokio::test]
async fn www_challenge_with_correct_md5_digest_is_answered() {
    let (fin, s) = challenged_call(401, DigestAlgorithm::Md5, "s3cret").await;
    assert_eq!(code(&fin), 200);
    assert_eq!(
        (s.calls_received, s.challenged, s.answered, s.auth_failures),
        (1, 1, 1, 0)
    );
}

#[tokio::test]
async fn proxy_challenge_with_correct_sha256_digest_is_answered() {
    let (fin, s) = challenged_call(407, DigestAlgorithm::Sha256, "s3cret").await;
    assert_eq!(code(&fin), 200);
    assert_eq!((s.challenged, s.answered), (1, 1));
}

#[tokio::test]
async fn wrong_password_gets_403() {
    let (fin, s) = challenged_call(401, DigestAlgorithm::Md5, "guess").await;
    assert_eq!(code(&fin), 403);
    assert_eq!((s.auth_failures, s.answered), (1, 0));
    assert_eq!(s.per_call[0].result, CallResult::AuthFailed);
}

#[tokio::test]
async fn no_answer_then_cancel_gets_200_and_487() {
    let (sim, _stop) = start(sendbox_sip_sim::SipSim::builder().default(Behaviour::NoAnswer)).await;
    let uac = Uac::new(sim.addr(), "77010000000").await;
    uac.invite(opts(1, "z9hG4bKn1", Some(uac.offer()))).await;
    assert_eq!(code(&uac.response().await), 100);
    assert_eq!(code(&uac.response().await), 180);
    uac.cancel("z9hG4bKn1").await;
    let (mut cancel_ok, mut terminated) = (None, None);
    for _ in 0..2 {
        let r = uac.response().await;
        match r.cseq_header().unwrap().method().unwrap() {
            rsip::Method::Cancel => cancel_ok = Some(code(&r)),
            _ => terminated = Some(r),
        }
    }
    assert_eq!(cancel_ok, Some(200));
    let terminated = terminated.unwrap();
    assert_eq!(code(&terminated), 487);
    uac.ack(&terminated, 1, "z9hG4bKn1", None).await;
    assert!(
        uac.silent_for(Duration::from_millis(700)).await,
        "487 retransmitted after ACK"
    );
    let s = eventually(&sim, |s| s.cancelled == 1).await;
    assert_eq!(s.per_call[0].result, CallResult::Cancelled);
}

#[tokio::test]
async fn dtmf_digits_reach_the_caller_as_rfc4733_packets() {
    let b = sendbox_sip_sim::SipSim::builder().default(Behaviour::Answer {
        ring: Duration::ZERO,
        hangup_after: None,
        dtmf: vec![
            ('5', Duration::from_millis(50)),
            ('#', Duration::from_millis(250)),
        ],
    });
    let (sim, _stop) = start(b).await;
    let uac = Uac::new(sim.addr(), "77012223344").await;
    uac.invite(opts(1, "z9hG4bKd1", Some(uac.offer()))).await;
    let ok = uac.final_response().await;
    uac.ack(&ok, 1, "z9hG4bKd1ack", None).await;
    let sim_rtp = answer_rtp(&ok);
    let mut buf = [0u8; 1500];
    let mut events = vec![];
    while events.iter().filter(|(_, end)| *end).count() < 6 {
        let (n, from) = tokio::time::timeout(common::WAIT, uac.rtp.recv_from(&mut buf))
            .await
            .expect("DTMF in time")
            .unwrap();
        assert_eq!(from, sim_rtp, "DTMF comes from the advertised RTP port");
        let p = rtp_rs::RtpReader::new(&buf[..n]).unwrap();
        assert_eq!(p.payload_type(), 101);
        events.push((p.payload()[0], p.payload()[1] & 0x80 != 0));
    }
    let ends: Vec<u8> = events
        .iter()
        .filter(|(_, e)| *e)
        .map(|(ev, _)| *ev)
        .collect();
    assert_eq!(ends, vec![5, 5, 5, 11, 11, 11]);
    assert_eq!(events.first(), Some(&(5, false)));
}

#[tokio::test]
async fn early_hangup_sends_bye_from_the_simulator() {
    let b = sendbox_sip_sim::SipSim::builder().default("answer,hangup=150ms".parse().unwrap());
    let (sim, _stop) = start(b).await;
    let uac = Uac::new(sim.addr(), "77013334455").await;
    uac.invite(opts(1, "z9hG4bKh1", Some(uac.offer()))).await;
    let ok = uac.final_response().await;
    let tag = ok.to_header().unwrap().tag().unwrap().unwrap();
    uac.ack(&ok, 1, "z9hG4bKh1ack", None).await;
    let SipMessage::Request(bye) = uac.recv().await else {
        panic!("expected BYE")
    };
    assert_eq!(bye.method, rsip::Method::Bye);
    assert_eq!(bye.call_id_header().unwrap().value(), uac.call_id);
    assert_eq!(bye.from_header().unwrap().tag().unwrap(), Some(tag));
    assert_eq!(
        bye.to_header().unwrap().tag().unwrap().unwrap().value(),
        uac.from_tag
    );
    let mut h = rsip::Headers::default();
    for x in bye.headers.iter().filter(|h| {
        matches!(
            h,
            Header::Via(_) | Header::From(_) | Header::To(_) | Header::CallId(_) | Header::CSeq(_)
        )
    }) {
        h.push(x.clone());
    }
    h.push(rsip::headers::ContentLength::new("0").into());
    let resp: Vec<u8> = rsip::Response {
        status_code: 200.into(),
        version: rsip::Version::V2,
        headers: h,
        body: vec![],
    }
    .into();
    uac.sip.send_to(&resp, sim.addr()).await.unwrap();
    assert!(
        uac.silent_for(Duration::from_millis(700)).await,
        "BYE retransmitted after 200"
    );
    let s = eventually(&sim, |s| s.byes_sent == 1 && s.per_call.len() == 1).await;
    assert_eq!(s.per_call[0].hangup, Some(Hangup::Simulator));
}

#[tokio::test]
async fn options_is_answered_and_garbage_is_counted() {
    let (sim, _stop) = start(sendbox_sip_sim::SipSim::builder()).await;
    let uac = Uac::new(sim.addr(), "ping").await;
    let raw = format!(
        "OPTIONS sip:ping@{sim} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKo1\r\nFrom: <sip:x@{me}>;tag=1\r\n\
         To: <sip:ping@{sim}>\r\nCall-ID: opt1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        sim = sim.addr(),
        me = uac.sip_addr()
    );
    uac.sip.send_to(raw.as_bytes(), sim.addr()).await.unwrap();
    assert_eq!(code(&uac.response().await), 200);
    uac.sip
        .send_to(b"\x00\x01 not sip", sim.addr())
        .await
        .unwrap();
    let s = eventually(&sim, |s| s.sip_parse_errors == 1).await;
    assert_eq!(s.options, 1);
}

#[tokio::test]
async fn retransmitted_invite_gets_the_same_response_and_one_call() {
    let (sim, _stop) = start(sendbox_sip_sim::SipSim::builder().default(Behaviour::NoAnswer)).await;
    let uac = Uac::new(sim.addr(), "77019998877").await;
    uac.invite(opts(1, "z9hG4bKt1", Some(uac.offer()))).await;
    assert_eq!(code(&uac.response().await), 100);
    assert_eq!(code(&uac.response().await), 180);
    uac.invite(opts(1, "z9hG4bKt1", Some(uac.offer()))).await;
    assert_eq!(code(&uac.response().await), 180);
    assert_eq!(sim.stats().calls_received, 1);
}

#[tokio::test]
async fn late_offer_invite_gets_an_offer_in_200_and_the_ack_answer_starts_metering() {
    let (sim, _stop) = start(sendbox_sip_sim::SipSim::builder()).await;
    let uac = Uac::new(sim.addr(), "77014440000").await;
    uac.invite(opts(1, "z9hG4bKl1", None)).await;
    let ok = uac.final_response().await;
    let body = String::from_utf8_lossy(&ok.body).to_string();
    assert!(body.contains("RTP/AVP 8 0 101"), "{body}");
    uac.ack(&ok, 1, "z9hG4bKl1ack", Some(uac.offer())).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    stream_rtp(&uac.rtp, answer_rtp(&ok), 5).await;
    uac.bye(&ok, 2).await;
    assert_eq!(code(&uac.response().await), 200);
    let s = eventually(&sim, |s| s.per_call.len() == 1).await;
    assert_eq!(s.per_call[0].rtp_packets, 5);
}
