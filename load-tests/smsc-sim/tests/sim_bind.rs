//! Session-level behaviour: binds, keepalive, unbind, unknown commands, bind state.

mod common;

use common::{Bind, Esme};
use rusmpp::{CommandId, CommandStatus, Pdu, pdus::QuerySm, types::COctetString};
use sendbox_smsc_sim::{SmppVersion, SmscSim};
use std::str::FromStr;

#[tokio::test]
async fn bind_with_the_right_credentials_succeeds() {
    let sim = SmscSim::builder()
        .credentials("sys", "pw")
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    assert_eq!(esme.bind_trx("sys", "pw").await, CommandStatus::EsmeRok);
    assert_eq!(sim.stats().binds, 1);
}

#[tokio::test]
async fn bind_response_announces_the_configured_version() {
    for (v, octet) in [(SmppVersion::V34, 0x34), (SmppVersion::V50, 0x50)] {
        let sim = SmscSim::builder()
            .version(v)
            .smsc_system_id("kcell")
            .spawn()
            .await
            .unwrap();
        let mut esme = Esme::connect(sim.addr()).await;
        esme.send(
            rusmpp::pdus::BindTransceiver::builder()
                .system_id(COctetString::from_str("a").unwrap())
                .build(),
        )
        .await;
        let resp = esme.recv().await;
        let Some(Pdu::BindTransceiverResp(r)) = resp.pdu() else {
            panic!("{resp:?}")
        };
        assert_eq!(r.system_id.as_str(), "kcell");
        let tlv = r.sc_interface_version().expect("sc_interface_version");
        assert_eq!(u8::from(tlv), octet);
    }
}

#[tokio::test]
async fn a_wrong_password_is_esme_rinvpaswd() {
    let sim = SmscSim::builder()
        .credentials("sys", "pw")
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    assert_eq!(
        esme.bind_trx("sys", "nope").await,
        CommandStatus::EsmeRinvpaswd
    );
    assert_eq!(sim.stats().bind_rejects, 1);
    assert_eq!(sim.stats().binds, 0);
}

#[tokio::test]
async fn a_wrong_system_id_is_esme_rinvsysid() {
    let sim = SmscSim::builder()
        .credentials("sys", "pw")
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    assert_eq!(
        esme.bind(Bind::Tx, "other", "pw").await,
        CommandStatus::EsmeRinvsysid
    );
}

#[tokio::test]
async fn configured_bind_rejection_answers_that_status() {
    let sim = SmscSim::builder().reject_binds(0x0D).spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    assert_eq!(
        esme.bind(Bind::Rx, "x", "y").await,
        CommandStatus::EsmeRbindfail
    );
}

#[tokio::test]
async fn a_second_bind_on_one_connection_is_already_bound() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    assert_eq!(esme.bind_trx("a", "b").await, CommandStatus::EsmeRok);
    assert_eq!(esme.bind_trx("a", "b").await, CommandStatus::EsmeRalybnd);
}

#[tokio::test]
async fn enquire_link_is_answered_with_the_same_sequence() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    let seq = esme.send(Pdu::EnquireLink).await;
    let resp = esme.recv().await;
    assert_eq!(
        (resp.id(), resp.sequence_number()),
        (CommandId::EnquireLinkResp, seq)
    );
    assert_eq!(sim.stats().enquire_links, 1);
}

#[tokio::test]
async fn unbind_is_answered_then_the_connection_closes() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    let seq = esme.send(Pdu::Unbind).await;
    let resp = esme.recv().await;
    assert_eq!(
        (resp.id(), resp.sequence_number()),
        (CommandId::UnbindResp, seq)
    );
    assert!(esme.closed().await);
    assert_eq!(sim.stats().unbinds, 1);
}

#[tokio::test]
async fn an_unsupported_command_gets_generic_nack_invcmdid() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    let seq = esme.send(QuerySm::builder().build()).await;
    let resp = esme.recv().await;
    assert_eq!(resp.id(), CommandId::GenericNack);
    assert_eq!(
        (resp.status(), resp.sequence_number()),
        (CommandStatus::EsmeRinvcmdid, seq)
    );
    assert_eq!(sim.stats().generic_nacks_sent, 1);
}

#[tokio::test]
async fn submit_before_bind_and_on_a_receiver_is_invalid_bind_state() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.submit("77011234567", b"hi").await;
    assert_eq!(esme.recv().await.status(), CommandStatus::EsmeRinvbndsts);
    assert_eq!(esme.bind(Bind::Rx, "a", "b").await, CommandStatus::EsmeRok);
    esme.submit("77011234567", b"hi").await;
    assert_eq!(esme.recv().await.status(), CommandStatus::EsmeRinvbndsts);
    let s = sim.stats();
    assert_eq!((s.invalid_bind_state, s.submits_accepted), (2, 0));
}

#[tokio::test]
async fn dropping_the_handle_closes_connections() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    drop(sim);
    assert!(esme.closed().await);
}

#[tokio::test]
async fn the_simulator_sends_enquire_link_and_counts_the_answers() {
    let sim = SmscSim::builder()
        .enquire_link_interval(std::time::Duration::from_millis(30))
        .spawn()
        .await
        .unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    let el = esme.recv().await;
    assert_eq!(el.id(), CommandId::EnquireLink);
    esme.send_command(rusmpp::Command::new(
        CommandStatus::EsmeRok,
        el.sequence_number(),
        Pdu::EnquireLinkResp,
    ))
    .await;
    common::eventually(|| sim.stats().enquire_link_resps == 1).await;
    assert!(sim.stats().enquire_links_sent >= 1);
}

#[tokio::test]
async fn an_smsc_initiated_unbind_closes_after_the_client_answers() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut esme = Esme::connect(sim.addr()).await;
    esme.bind_trx("a", "b").await;
    assert_eq!(sim.unbind_all(), 1);
    let unbind = esme.recv().await;
    assert_eq!(unbind.id(), CommandId::Unbind);
    esme.send_command(rusmpp::Command::new(
        CommandStatus::EsmeRok,
        unbind.sequence_number(),
        Pdu::UnbindResp,
    ))
    .await;
    assert!(esme.closed().await);
    let s = sim.stats();
    assert_eq!((s.unbinds_sent, s.unbind_resps), (1, 1));
}
