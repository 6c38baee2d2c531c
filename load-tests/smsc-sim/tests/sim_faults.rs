//! Fault injection: throttling, connection drops, duplicates, malformed PDUs on the wire.

mod common;

use std::time::Duration;

use common::{Esme, eventually, read_raw_pdu};
use futures::SinkExt;
use rusmpp::{CommandId, CommandStatus, Pdu};
use sendbox_smsc_sim::{Malformed, SmscSim};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A bind_transceiver for "a"/"b", 3.4, as raw bytes.
fn raw_bind(seq: u32) -> Vec<u8> {
    let mut body = b"a\0b\0\0".to_vec();
    body.extend_from_slice(&[0x34, 0, 0, 0]);
    let mut pdu = ((16 + body.len()) as u32).to_be_bytes().to_vec();
    pdu.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 0]);
    pdu.extend_from_slice(&seq.to_be_bytes());
    pdu.extend(body);
    pdu
}

/// A minimal submit_sm (no receipt) as raw bytes.
fn raw_submit(seq: u32, text: &[u8]) -> Vec<u8> {
    let mut body = b"\0\x05\x00src\0\x01\x01770\0".to_vec();
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, text.len() as u8]);
    body.extend_from_slice(text);
    let mut pdu = ((16 + body.len()) as u32).to_be_bytes().to_vec();
    pdu.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0]);
    pdu.extend_from_slice(&seq.to_be_bytes());
    pdu.extend(body);
    pdu
}

#[tokio::test]
async fn throttle_every_n_answers_0x58_without_a_message_id() {
    let sim = SmscSim::builder().throttle_every(3).spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        esme.send(common::submit_sm(
            "s",
            "77011234567",
            format!("m{i}").as_bytes(),
            0,
        ))
        .await;
        statuses.push(esme.recv().await.status());
    }
    let t = CommandStatus::EsmeRthrottled;
    let ok = CommandStatus::EsmeRok;
    assert_eq!(statuses, vec![ok, ok, t, ok, ok, t]);
    let s = sim.stats();
    assert_eq!(
        (s.throttled, s.submits_accepted, s.submits_received),
        (2, 4, 6)
    );
}

#[tokio::test]
async fn throttle_above_tps_limits_a_burst() {
    let sim = SmscSim::builder()
        .throttle_above_tps(2.0)
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    for i in 0..20 {
        esme.send(common::submit_sm(
            "s",
            "77011234567",
            format!("m{i}").as_bytes(),
            0,
        ))
        .await;
    }
    let mut throttled = 0;
    for _ in 0..20 {
        if esme.recv().await.status() == CommandStatus::EsmeRthrottled {
            throttled += 1;
        }
    }
    // A burst of 2 passes; at 2/s at most a few more refill even on a slow, loaded machine.
    assert!((15..=18).contains(&throttled), "throttled {throttled}");
}

#[tokio::test]
async fn drop_every_n_closes_the_connection_and_leaves_that_submit_unanswered() {
    let sim = SmscSim::builder().drop_every(3).spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    for i in 0..3 {
        esme.send(common::submit_sm(
            "s",
            "77011234567",
            format!("m{i}").as_bytes(),
            0,
        ))
        .await;
    }
    assert_eq!(esme.recv().await.id(), CommandId::SubmitSmResp);
    assert_eq!(esme.recv().await.id(), CommandId::SubmitSmResp);
    assert!(esme.closed().await);
    let s = sim.stats();
    assert_eq!(
        (
            s.dropped_connections,
            s.submits_received,
            s.submits_accepted
        ),
        (1, 3, 2)
    );
}

#[tokio::test]
async fn resubmitting_the_same_message_counts_a_duplicate() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    for text in [&b"one"[..], b"two", b"one"] {
        esme.send(common::submit_sm("s", "77011234567", text, 0))
            .await;
        esme.recv().await;
    }
    // Same text to another number is a different message.
    esme.send(common::submit_sm("s", "77017654321", b"one", 0))
        .await;
    esme.recv().await;
    eventually(|| sim.stats().submits_accepted == 4).await;
    let s = sim.stats();
    assert_eq!((s.unique_messages, s.duplicates), (3, 1));
}

#[tokio::test]
async fn a_message_id_without_nul_is_on_the_wire() {
    let sim = SmscSim::builder()
        .malformed(Malformed::SubmitRespWithoutNul { every: 2 })
        .spawn()
        .await
        .unwrap();
    let mut s = TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(&raw_bind(1)).await.unwrap();
    read_raw_pdu(&mut s).await;
    s.write_all(&raw_submit(2, b"x")).await.unwrap();
    s.write_all(&raw_submit(3, b"y")).await.unwrap();
    // First: normal, id "1" + NUL.
    assert_eq!(
        read_raw_pdu(&mut s).await,
        [
            &[0, 0, 0, 18, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2][..],
            b"1\0"
        ]
        .concat()
    );
    // Second: id "2" with no NUL, command_length 17.
    assert_eq!(
        read_raw_pdu(&mut s).await,
        [
            &[0, 0, 0, 17, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3][..],
            b"2"
        ]
        .concat()
    );
    assert_eq!(sim.stats().malformed_sent, 1);
}

#[tokio::test]
async fn a_garbage_pdu_follows_the_response_and_a_generic_nack_is_counted() {
    let sim = SmscSim::builder()
        .malformed(Malformed::GarbagePdu { every: 1 })
        .spawn()
        .await
        .unwrap();
    let mut s = TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(&raw_bind(1)).await.unwrap();
    read_raw_pdu(&mut s).await;
    s.write_all(&raw_submit(2, b"x")).await.unwrap();
    let resp = read_raw_pdu(&mut s).await;
    assert_eq!(&resp[4..8], &[0x80, 0, 0, 4]);
    let garbage = read_raw_pdu(&mut s).await;
    assert_eq!(&garbage[..8], &[0, 0, 0, 25, 0, 0, 0, 5]);
    assert_eq!(&garbage[16..], &[0xFF; 9]);
    // The ESME answers it with generic_nack; the simulator counts it and keeps the bind.
    let mut nack = vec![0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 2];
    nack.extend_from_slice(&garbage[12..16]);
    s.write_all(&nack).await.unwrap();
    s.write_all(&raw_submit(3, b"z")).await.unwrap();
    assert_eq!(&read_raw_pdu(&mut s).await[4..8], &[0x80, 0, 0, 4]);
    eventually(|| sim.stats().generic_nacks_received == 1).await;
}

#[tokio::test]
async fn an_undecodable_request_gets_generic_nack_and_the_bind_survives() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut s = TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(&raw_bind(1)).await.unwrap();
    read_raw_pdu(&mut s).await;
    // submit_sm whose service_type never terminates.
    let mut bad = vec![0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9];
    bad.extend_from_slice(&[0x41; 4]);
    s.write_all(&bad).await.unwrap();
    let nack = read_raw_pdu(&mut s).await;
    assert_eq!(
        nack,
        vec![0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 9]
    );
    s.write_all(&raw_submit(10, b"ok")).await.unwrap();
    assert_eq!(
        &read_raw_pdu(&mut s).await[4..16],
        &[0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 10]
    );
}

#[tokio::test]
async fn send_raw_reaches_every_connection() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut a = TcpStream::connect(sim.addr()).await.unwrap();
    let mut b = TcpStream::connect(sim.addr()).await.unwrap();
    eventually(|| sim.stats().connections == 2).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let pdu = [0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 77];
    assert_eq!(sim.send_raw(&pdu), 2);
    assert_eq!(read_raw_pdu(&mut a).await, pdu);
    assert_eq!(read_raw_pdu(&mut b).await, pdu);
}

#[tokio::test]
async fn many_pipelined_submits_are_all_answered_once() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    let n = 2000u32;
    for i in 0..n {
        esme.framed
            .feed(rusmpp::Command::new(
                CommandStatus::EsmeRok,
                100 + i,
                common::submit_sm("s", "77011234567", format!("m{i}").as_bytes(), 1),
            ))
            .await
            .unwrap();
    }
    SinkExt::<rusmpp::Command>::flush(&mut esme.framed)
        .await
        .unwrap();
    let (mut resps, mut dlrs) = (0, 0);
    while resps + dlrs < 2 * n {
        let c = esme.recv().await;
        match c.pdu() {
            Some(Pdu::SubmitSmResp(_)) => resps += 1,
            Some(Pdu::DeliverSm(_)) => {
                dlrs += 1;
                esme.ack(&c).await;
            }
            other => panic!("{other:?}"),
        }
    }
    eventually(|| sim.stats().receipts_acked == u64::from(n)).await;
    let s = sim.stats();
    assert_eq!(
        (s.unique_messages, s.duplicates, s.receipts_sent),
        (u64::from(n), 0, u64::from(n))
    );
}

mod framing {
    use bytes::BytesMut;
    use proptest::prelude::*;
    use sendbox_smsc_sim::wire::{Frame, next_frame};

    proptest! {
        #[test]
        fn random_bytes_never_panic_the_framer(
            bytes in prop::collection::vec(any::<u8>(), 0..600),
            id in prop::sample::select(vec![1u32, 2, 4, 5, 6, 9, 0x15, 0x8000_0005, 0x1234]),
        ) {
            // A plausible header (so bodies reach rusmpp's decoder) followed by random octets.
            let mut buf = BytesMut::new();
            buf.extend_from_slice(&((16 + bytes.len()) as u32).to_be_bytes());
            buf.extend_from_slice(&id.to_be_bytes());
            buf.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
            buf.extend_from_slice(&bytes);
            buf.extend_from_slice(&bytes);
            for _ in 0..4 {
                match next_frame(&mut buf, 8192) {
                    Ok(Some(Frame::Command(_) | Frame::Undecodable { .. })) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
}

#[tokio::test]
async fn garbage_on_the_socket_closes_only_that_connection() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut bad = TcpStream::connect(sim.addr()).await.unwrap();
    // command_length 2: unrecoverable framing, the simulator hangs up.
    bad.write_all(&[0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        .await
        .unwrap();
    let mut one = [0u8; 1];
    let n = tokio::time::timeout(
        common::WAIT,
        tokio::io::AsyncReadExt::read(&mut bad, &mut one),
    )
    .await
    .unwrap()
    .unwrap_or(0);
    assert_eq!(n, 0);
    let mut esme = Esme::connect(sim.addr()).await;
    assert_eq!(esme.bind_trx("a", "b").await, CommandStatus::EsmeRok);
}
