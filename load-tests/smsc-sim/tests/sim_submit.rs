//! submit_sm → submit_sm_resp → receipt, in its configurable forms.

mod common;

use std::time::Duration;

use futures::StreamExt;

use common::{Bind, Esme, eventually, message_id, receipt_parts, submit_sm};
use rusmpp::{CommandId, CommandStatus};
use sendbox_smsc_sim::{ReceiptFormat, SmscSim, Stat};

#[tokio::test]
async fn submit_gets_an_id_then_a_receipt_with_text_and_tlvs() {
    let sim = SmscSim::builder()
        .first_message_id(1000)
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    let seq = esme.submit("77011234567", b"Hello world").await;
    let resp = esme.recv().await;
    assert_eq!(
        (resp.id(), resp.sequence_number(), resp.status()),
        (CommandId::SubmitSmResp, seq, CommandStatus::EsmeRok)
    );
    assert_eq!(message_id(&resp), "1000");

    let dlr = esme.recv().await;
    let (esm, text, id, state) = receipt_parts(&dlr);
    assert_eq!(esm, 0x04);
    assert!(
        text.starts_with("id:1000 sub:001 dlvrd:001 submit date:"),
        "{text}"
    );
    assert!(
        text.contains(" stat:DELIVRD err:000 text:Hello world"),
        "{text}"
    );
    assert_eq!(id.as_deref(), Some("1000"));
    assert_eq!(state, Some(2));
    let rusmpp::Pdu::DeliverSm(d) = dlr.pdu().unwrap() else {
        unreachable!()
    };
    assert_eq!(d.source_addr.as_str(), "77011234567");
    assert_eq!(d.destination_addr.as_str(), "sendbox");

    esme.ack(&dlr).await;
    eventually(|| sim.stats().receipts_acked == 1).await;
    let s = sim.stats();
    assert_eq!(
        (
            s.submits_received,
            s.submits_accepted,
            s.unique_messages,
            s.receipts_sent
        ),
        (1, 1, 1, 1)
    );
}

#[tokio::test]
async fn hex_ids_and_the_text_mismatch_option() {
    let sim = SmscSim::builder()
        .first_message_id(255)
        .hex_ids(true)
        .receipt_text_id_mismatch(true)
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    esme.submit("77011234567", b"x").await;
    assert_eq!(message_id(&esme.recv().await), "ff");
    let (_, text, id, _) = receipt_parts(&esme.recv().await);
    assert!(text.starts_with("id:255 "), "{text}");
    assert_eq!(id.as_deref(), Some("ff"));
}

#[tokio::test]
async fn receipt_formats_text_only_and_tlv_only() {
    for format in [ReceiptFormat::TextOnly, ReceiptFormat::TlvOnly] {
        let sim = SmscSim::builder()
            .receipt_format(format)
            .spawn()
            .await
            .unwrap();
        let mut esme = Esme::connect(sim.addr()).await;
        esme.bind_trx("a", "b").await;
        esme.submit("77011234567", b"x").await;
        esme.recv().await;
        let (_, text, id, state) = receipt_parts(&esme.recv().await);
        match format {
            ReceiptFormat::TextOnly => {
                assert!(text.starts_with("id:1 ") && id.is_none() && state.is_none())
            }
            _ => assert!(text.is_empty() && id.as_deref() == Some("1") && state == Some(2)),
        }
    }
}

#[tokio::test]
async fn the_status_mix_drives_stat_and_message_state() {
    let sim = SmscSim::builder()
        .status_mix(&[(Stat::Undeliv, 1)])
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    esme.submit("77011234567", b"x").await;
    esme.recv().await;
    let (_, text, _, state) = receipt_parts(&esme.recv().await);
    assert!(
        text.contains("dlvrd:000") && text.contains("stat:UNDELIV"),
        "{text}"
    );
    assert_eq!(state, Some(5));
}

#[tokio::test]
async fn no_receipt_without_registered_delivery() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    esme.send(submit_sm("s", "77011234567", b"x", 0)).await;
    esme.recv().await;
    esme.submit("77011234567", b"y").await;
    // The next PDUs are the second response and its receipt: the first submit produced none.
    assert_eq!(esme.recv().await.id(), CommandId::SubmitSmResp);
    assert_eq!(esme.recv().await.id(), CommandId::DeliverSm);
    assert_eq!(sim.stats().receipts_sent, 1);
}

#[tokio::test]
async fn receipts_before_response_arrive_first() {
    let sim = SmscSim::builder()
        .receipt_before_response(true)
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    let seq = esme.submit("77011234567", b"x").await;
    let first = esme.recv().await;
    assert_eq!(first.id(), CommandId::DeliverSm);
    let (_, _, id, _) = receipt_parts(&first);
    let second = esme.recv().await;
    assert_eq!(
        (second.id(), second.sequence_number()),
        (CommandId::SubmitSmResp, seq)
    );
    assert_eq!(id, Some(message_id(&second)));
}

#[tokio::test]
async fn latency_and_receipt_delay_are_applied() {
    let sim = SmscSim::builder()
        .latency(Duration::from_millis(40))
        .receipt_delay(Duration::from_millis(60))
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    let t0 = tokio::time::Instant::now();
    esme.submit("77011234567", b"x").await;
    esme.recv().await;
    let t_resp = t0.elapsed();
    esme.recv().await;
    let t_dlr = t0.elapsed();
    assert!(t_resp >= Duration::from_millis(40), "{t_resp:?}");
    assert!(t_dlr >= Duration::from_millis(100), "{t_dlr:?}");
}

#[tokio::test]
async fn receipts_for_a_transmitter_go_to_a_receiver_of_the_same_system_id() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut tx = Esme::connect(sim.addr()).await;
    tx.bind(Bind::Tx, "acct", "pw").await;
    tx.submit("77011234567", b"x").await;
    let id = message_id(&tx.recv().await);
    // Parked until a receiver binds.
    let mut rx = Esme::connect(sim.addr()).await;
    rx.bind(Bind::Rx, "acct", "pw").await;
    let (_, _, rid, _) = receipt_parts(&rx.recv().await);
    assert_eq!(rid, Some(id));
}

#[tokio::test]
async fn unacked_receipts_are_redelivered_on_the_next_bind() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut a = Esme::connect(sim.addr()).await;
    a.bind_trx("acct", "pw").await;
    a.submit("77011234567", b"x").await;
    a.recv().await;
    let (_, _, first, _) = receipt_parts(&a.recv().await);
    drop(a);
    eventually(|| sim.stats().receipts_redelivered == 1).await;
    let mut b = Esme::connect(sim.addr()).await;
    b.bind_trx("acct", "pw").await;
    let dlr = b.recv().await;
    assert_eq!(receipt_parts(&dlr).2, first);
    b.ack(&dlr).await;
    eventually(|| sim.stats().receipts_acked == 1).await;
    assert_eq!(sim.stats().receipts_sent, 2);
}

#[tokio::test]
async fn mo_messages_reach_a_receiver_and_acks_are_counted() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    sim.mo("77011234567", "7575", "STOP");
    let mo = esme.recv().await;
    let rusmpp::Pdu::DeliverSm(d) = mo.pdu().unwrap() else {
        panic!("{mo:?}")
    };
    assert_eq!(u8::from(d.esm_class), 0);
    assert_eq!(d.short_message().as_ref(), b"STOP");
    assert_eq!(d.source_addr.as_str(), "77011234567");
    esme.ack(&mo).await;
    eventually(|| sim.stats().mo_acked == 1).await;
}

#[tokio::test]
async fn capture_records_what_was_submitted() {
    let sim = SmscSim::builder().capture(10).spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("acct", "pw").await;
    esme.send(submit_sm(
        "SENDBOX",
        "77011234567",
        &[0x05, 0x00, 0x03, 0x07, 0x02, 0x01, 0x41],
        1,
    ))
    .await;
    esme.recv().await;
    let got = sim.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(
        (r.system_id.as_str(), r.source.as_str(), r.dest.as_str()),
        ("acct", "SENDBOX", "77011234567")
    );
    assert_eq!(
        r.short_message,
        vec![0x05, 0x00, 0x03, 0x07, 0x02, 0x01, 0x41]
    );
    assert_eq!(r.message_id, "1");
}

#[tokio::test]
async fn the_deliver_window_holds_receipts_until_acks_arrive() {
    let sim = SmscSim::builder().deliver_window(2).spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    for i in 0..5 {
        esme.submit("77011234567", format!("m{i}").as_bytes()).await;
    }
    let mut dlrs = Vec::new();
    let mut resps = 0;
    while resps < 5 || dlrs.len() < 2 {
        let c = esme.recv().await;
        match c.id() {
            CommandId::SubmitSmResp => resps += 1,
            CommandId::DeliverSm => dlrs.push(c),
            other => panic!("{other:?}"),
        }
    }
    // Only two receipts are out; nothing more comes until one is acknowledged.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), esme.framed.next())
            .await
            .is_err()
    );
    assert_eq!(sim.stats().receipts_sent, 2);
    esme.ack(&dlrs[0]).await;
    let third = esme.recv().await;
    assert_eq!(third.id(), CommandId::DeliverSm);
    assert_eq!(sim.stats().receipts_sent, 3);
}
