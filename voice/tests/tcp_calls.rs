//! SIP over TCP end to end on loopback: calls to `sipp -t t1` as the trunk (answering, busy;
//! skipped loudly without sipp unless `SENDBOX_REQUIRE_SIPP=1`), and a scripted TCP trunk
//! that checks our Via/Contact, pings us, drops the connection mid-call and sends an
//! unframable message: the call fails at once (not after Timer B) and the link reconnects.

mod common;

use bytes::BytesMut;
use common::sipp::{expect_answered_by_sipp, sipp_available, sipp_uas};
use common::{dispatch, link};
use sendbox_dispatch::RetryReason;
use sendbox_voice::SipTrunkConfig;
use sendbox_voice::config::SipTransport;
use sendbox_voice::sip::msg;
use sendbox_voice::transport::framing::{Frame, SipStreamCodec};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Decoder;

fn tcp_trunk(port: u16, rtp_base: u16) -> SipTrunkConfig {
    let mut cfg = SipTrunkConfig::new(sendbox_dispatch::OperatorId(0), "127.0.0.1", port);
    cfg.transport = SipTransport::Tcp;
    cfg.rtp_port_range = rtp_base..=rtp_base + 99;
    cfg.max_calls_per_second = 100.0;
    cfg
}

#[tokio::test]
async fn a_tcp_call_to_sipp_answering_plays_the_prompt_and_hangs_up() {
    if !sipp_available() {
        return;
    }
    let (mut sipp, port) = sipp_uas("uas_answer.xml", true).await;
    let (h, ev, _q, shutdown) = link(
        tcp_trunk(port, 47400),
        vec![dispatch(1, 77010000001, 1000, 1)],
    );
    expect_answered_by_sipp(&ev, &mut sipp, 1, Duration::from_secs(15)).await;
    shutdown.cancel();
    h.join().await;
}

#[tokio::test]
async fn a_tcp_call_to_sipp_busy_is_busy_and_comes_back_for_another_attempt() {
    if !sipp_available() {
        return;
    }
    let (mut sipp, port) = sipp_uas("uas_busy.xml", true).await;
    let (h, ev, _q, shutdown) = link(
        tcp_trunk(port, 47600),
        vec![dispatch(2, 77010000002, 1000, 1)],
    );
    ev.until(Duration::from_secs(15), |r| {
        r.retried.lock().len() + r.finished.lock().len() == 1
    })
    .await;
    assert_eq!(
        ev.retried.lock().clone(),
        vec![(2, 2, RetryReason::NewAttempt)],
        "busy is retried as attempt 2"
    );
    let status = tokio::time::timeout(Duration::from_secs(10), sipp.wait())
        .await
        .expect("sipp exits after its one call (it got our ACK over TCP)")
        .unwrap();
    assert!(status.success(), "sipp: {status}");
    shutdown.cancel();
    h.join().await;
}

/// Read one framed unit from a scripted trunk's connection.
async fn next_frame(conn: &mut TcpStream, buf: &mut BytesMut) -> Frame {
    let mut codec = SipStreamCodec::new(65_535);
    loop {
        if let Some(f) = codec.decode(buf).unwrap() {
            return f;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read_buf(buf))
            .await
            .expect("data from the link")
            .unwrap();
        assert!(n > 0, "the link closed the connection");
    }
}

async fn accept(l: &TcpListener) -> TcpStream {
    tokio::time::timeout(Duration::from_secs(10), l.accept())
        .await
        .expect("the link (re)connects")
        .unwrap()
        .0
}

#[tokio::test]
async fn a_dropped_connection_fails_the_ringing_call_at_once_and_the_link_reconnects() {
    let trunk = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = trunk.local_addr().unwrap().port();
    let mut cfg = tcp_trunk(port, 47800);
    cfg.t1 = Duration::from_secs(2); // Timer B = 128 s: only the connection loss can end it.
    let (h, ev, _q, shutdown) = link(cfg, vec![dispatch(3, 77010000003, 1000, 1)]);

    let mut conn = accept(&trunk).await;
    let mut buf = BytesMut::new();
    let Frame::Message(invite) = next_frame(&mut conn, &mut buf).await else {
        panic!("expected the INVITE")
    };
    let text = String::from_utf8_lossy(&invite).into_owned();
    let ours = conn.peer_addr().unwrap();
    assert!(
        text.starts_with("INVITE sip:77010000003@127.0.0.1:"),
        "{text}"
    );
    // rsip prints the Request-URI's parameter as `TCP` (URI parameters compare
    // case-insensitively, RFC 3261 §19.1.4).
    let start_line = text.lines().next().unwrap().to_ascii_lowercase();
    assert!(start_line.contains(";transport=tcp"), "{text}");
    assert!(
        text.contains(&format!("Via: SIP/2.0/TCP {ours};branch=z9hG4bK")),
        "{text}"
    );
    assert!(
        text.contains(&format!("<sip:sendbox@{ours};transport=tcp>")),
        "{text}"
    );
    assert!(
        text.contains("m=audio ") && text.contains("RTP/AVP"),
        "SDP unchanged"
    );

    // RFC 5626 keep-alive: our ping gets a pong.
    conn.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    conn.read_exact(&mut pong).await.unwrap();
    assert_eq!(&pong, b"\r\n");

    // Ringing, then the connection drops: the 200 can never come back on it.
    let req = match msg::parse(&invite).unwrap() {
        rsip::SipMessage::Request(r) => r,
        _ => unreachable!(),
    };
    let ringing = msg::response_to(&req, 180, Some("t1"));
    conn.write_all(&msg::encode(ringing)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(conn);
    ev.until(Duration::from_secs(10), |r| r.retried.lock().len() == 1)
        .await;
    assert_eq!(
        ev.retried.lock().clone(),
        vec![(3, 2, RetryReason::NewAttempt)],
        "a transport failure is a temporary failure"
    );

    // The link reconnects; a message that cannot be framed closes that connection too, and
    // the link connects again.
    let mut conn = accept(&trunk).await;
    conn.write_all(b"OPTIONS sip:x SIP/2.0\r\nCall-ID: q\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut rest))
        .await
        .expect("the link closes the unframable stream")
        .unwrap();
    assert_eq!(n, 0);
    let mut conn = accept(&trunk).await;
    // That connection works: an out-of-dialog OPTIONS is answered 200 on it.
    let options = sendbox_voice::sip::transaction::tests_support::options_request();
    conn.write_all(&msg::encode(options)).await.unwrap();
    let mut buf = BytesMut::new();
    let Frame::Message(reply) = next_frame(&mut conn, &mut buf).await else {
        panic!("expected a response")
    };
    assert_eq!(msg::status(&msg::parse(&reply).unwrap()), Some(200));

    shutdown.cancel();
    h.join().await;
}

#[tokio::test]
async fn the_link_is_up_only_while_its_tcp_connection_is() {
    // A port nobody listens on yet.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (h, _ev, _q, shutdown) = link(tcp_trunk(port, 48000), vec![]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!h.up(), "no connection to the trunk: the link is not up");

    // The trunk comes up: the link reconnects and is up.
    let trunk = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let conn = accept(&trunk).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !h.up() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(h.up(), "connected: the link is up");

    // The trunk goes away (listener closed, connection dropped): down again.
    drop(trunk);
    drop(conn);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.up() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!h.up(), "connection lost: the link is down");

    shutdown.cancel();
    h.join().await;
}
