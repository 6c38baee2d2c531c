//! The SMS link end to end over loopback, against the SMSC simulator.

mod common;

use common::*;
use sendbox_dispatch::{FinalState, RetryReason};
use sendbox_smpp::{IdBase, LinkState};
use sendbox_smsc_sim::{Malformed, ReceiptFormat, SimHandle, SmscSim, Stat};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

fn push(r: &Running, from: u64, n: u64, text: &str) {
    let c = sms(text);
    for id in from..from + n {
        r.queue.push(ready(id, &c)).unwrap();
    }
}

/// A simulator taking `sys`/`pw`, and a link of 2 binds with windows of 32 at 100,000/s.
async fn two_binds() -> (SimHandle, Running) {
    let sim = SmscSim::builder()
        .credentials("sys", "pw")
        .spawn()
        .await
        .unwrap();
    let r = start(config(sim.addr(), 2, 32, 100_000.0), 100_000.0);
    (sim, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_is_delivered_exactly_once_with_one_receipt_per_dispatch() {
    let (sim, r) = two_binds().await;
    push(&r, 0, 2000, "hello");
    push(&r, 2000, 200, &"long message ".repeat(20)); // 260 chars: 2 parts
    until("all receipts", LIMIT, || r.events.finished_count() == 2200).await;
    r.events.assert_exactly_once(2200, true);
    assert!(
        r.events
            .finished
            .lock()
            .iter()
            .all(|(_, o)| o.state == FinalState::Delivered)
    );
    let units: u32 = r.events.handed.lock().iter().map(|(_, h)| h.units).sum();
    assert_eq!(units, 2000 + 2 * 200);
    let s = sim.stats();
    assert_eq!((s.submits_accepted, s.duplicates), (2400, 0));
    assert_eq!(r.link.binds_up(), 2);
    r.shutdown.cancel();
    assert!(r.link.join().await.is_empty());
    assert_eq!(sim.stats().unbinds, 2, "each bind unbinds on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_core_gets_no_new_dispatches_until_released() {
    use std::sync::atomic::Ordering;
    let (sim, r) = two_binds().await;
    until("binds up", LIMIT, || r.link.binds_up() == 2).await;
    // What a bind took before the hold still completes; nothing new is taken after it.
    push(&r, 0, 100, "before");
    until("first receipts", LIMIT, || r.events.finished_count() == 100).await;
    r.events.hold.store(true, Ordering::Relaxed);
    push(&r, 100, 500, "held");
    // Bounded wait for something that must not happen: 300 ms is hundreds of bind passes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.queue.len(), 500, "held dispatches stay queued");
    assert_eq!(sim.stats().submits_accepted, 100);
    r.events.hold.store(false, Ordering::Relaxed);
    until("all receipts", LIMIT, || r.events.finished_count() == 600).await;
    r.events.assert_exactly_once(600, true);
    r.shutdown.cancel();
    assert!(r.link.join().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_slows_the_operator_and_recovers_without_burning_retries() {
    let sim = SmscSim::builder().throttle_every(40).spawn().await.unwrap();
    let r = start(config(sim.addr(), 2, 16, 100_000.0), 5_000.0);
    push(&r, 0, 3000, "hi");
    let mut slowest = f64::MAX;
    until("all receipts", LIMIT, || {
        slowest = slowest.min(r.limiter.rate());
        r.events.finished_count() == 3000
    })
    .await;
    r.events.assert_exactly_once(3000, true);
    assert!(sim.stats().throttled > 50);
    assert_eq!(sim.stats().duplicates, 0);
    assert!(
        r.events.retries.lock().is_empty(),
        "throttled parts are resent by the bind, not retried"
    );
    assert!(
        r.events
            .finished
            .lock()
            .iter()
            .all(|(_, o)| o.state == FinalState::Delivered)
    );
    // AIMD: halved on each throttle, +1 % of the maximum per success.
    assert!(
        slowest <= 0.6 * r.limiter.max_rate(),
        "never slowed: {slowest}"
    );
    for _ in 0..100 {
        r.limiter.on_success();
    }
    assert!(
        (r.limiter.rate() - r.limiter.max_rate()).abs() < 1.0,
        "rate {}",
        r.limiter.rate()
    );
    r.shutdown.cancel();
    r.link.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_lose_nothing_and_hand_off_nothing_twice() {
    let sim = SmscSim::builder().drop_every(250).spawn().await.unwrap();
    let r = start(config(sim.addr(), 2, 32, 100_000.0), 100_000.0);
    push(&r, 0, 3000, "drop test");
    until("all receipts", LIMIT, || r.events.finished_count() == 3000).await;
    r.events.assert_exactly_once(3000, true);
    let s = sim.stats();
    assert!(s.dropped_connections >= 5, "{s:?}");
    // The bound: a resend after a drop may duplicate only what was in flight (at most
    // a window per dropped connection); billing stays exactly once (checked above). Usually
    // zero here. A loaded machine once showed 25 with 12 drops (window 32): the simulator
    // closes with our later submits unread, so its kernel resets the connection; our next
    // write failed and the bind was closed before the responses already in the socket were
    // read, so answered submits were sent again. The driver now reads them first
    // (`Driver::read_rest`); an SMSC whose reset discards answers still in flight can cause
    // duplicates, which is why the bound stays.
    assert!(
        s.duplicates <= s.dropped_connections * 32,
        "duplicates beyond the in-flight window: {s:?}"
    );
    assert!(
        r.events
            .retries
            .lock()
            .iter()
            .all(|(_, why)| *why == RetryReason::LinkDown)
    );
    r.shutdown.cancel();
    r.link.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipt_before_response_is_matched() {
    let sim = SmscSim::builder()
        .receipt_before_response(true)
        .status_mix(&[(Stat::Delivrd, 1), (Stat::Undeliv, 1)])
        .spawn()
        .await
        .unwrap();
    let r = start(config(sim.addr(), 1, 16, 100_000.0), 100_000.0);
    push(&r, 0, 500, "early");
    until("all receipts", LIMIT, || r.events.finished_count() == 500).await;
    r.events.assert_exactly_once(500, true);
    let fin = r.events.finished.lock();
    let undeliv = fin
        .iter()
        .filter(|(_, o)| o.state == FinalState::Undeliverable)
        .count();
    assert!(undeliv > 100 && undeliv < 400, "{undeliv}");
    let (_, o) = fin
        .iter()
        .find(|(_, o)| o.state == FinalState::Undeliverable)
        .unwrap();
    assert_eq!(o.error.as_deref(), Some("dlr:UNDELIV/err=034"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pdus_keep_the_bind() {
    let sim = SmscSim::builder()
        .malformed(Malformed::SubmitRespWithoutNul { every: 3 })
        .malformed(Malformed::GarbagePdu { every: 7 })
        .spawn()
        .await
        .unwrap();
    let r = start(config(sim.addr(), 1, 16, 100_000.0), 100_000.0);
    push(&r, 0, 700, "bad pdus");
    until("all receipts", LIMIT, || r.events.finished_count() == 700).await;
    r.events.assert_exactly_once(700, true);
    let s = sim.stats();
    assert!(s.malformed_sent >= 300, "{s:?}");
    assert_eq!(s.connections, 1, "the bind survived every bad PDU");
    assert_eq!(s.duplicates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hex_in_responses_and_decimal_in_receipt_text_are_matched() {
    let sim = SmscSim::builder()
        .hex_ids(true)
        .receipt_text_id_mismatch(true)
        .receipt_format(ReceiptFormat::TextOnly)
        .first_message_id(0xABC000)
        .spawn()
        .await
        .unwrap();
    let mut cfg = config(sim.addr(), 1, 16, 100_000.0);
    cfg.submit_id_base = IdBase::Hex;
    cfg.receipt_id_base = IdBase::Decimal;
    let r = start(cfg, 100_000.0);
    push(&r, 0, 200, "ids");
    until("all receipts", LIMIT, || r.events.finished_count() == 200).await;
    r.events.assert_exactly_once(200, true);
    assert!(
        r.events
            .handed
            .lock()
            .iter()
            .all(|(_, h)| h.operator_ref.chars().all(|c| c.is_ascii_hexdigit()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_reported_clearly_without_a_tight_reconnect_loop() {
    let sim = SmscSim::builder()
        .credentials("sys", "other")
        .spawn()
        .await
        .unwrap();
    let mut cfg = config(sim.addr(), 1, 16, 100.0);
    cfg.reconnect_min = Duration::from_millis(10);
    cfg.reconnect_max = Duration::from_secs(5);
    let r = start(cfg, 100.0);
    until("a refused bind", LIMIT, || sim.stats().bind_rejects >= 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sim.stats().bind_rejects,
        1,
        "no reconnect within 0.5 s of a bad password"
    );
    let st = &r.link.status()[0];
    assert_eq!(st.state, LinkState::Down);
    let err = st.last_error.as_deref().unwrap();
    assert!(
        err.contains("ESME_RINVPASWD") && err.contains("0x0000000E"),
        "{err}"
    );
    assert_eq!(r.link.binds_up(), 0);
    r.shutdown.cancel();
    r.link.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_message_is_reported_and_acknowledged() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let r = start(config(sim.addr(), 1, 16, 100.0), 100.0);
    until("bound", LIMIT, || r.link.binds_up() == 1).await;
    sim.mo("77011234567", "SHOP", "Сәлем");
    until("inbound", LIMIT, || !r.events.inbound.lock().is_empty()).await;
    assert_eq!(
        r.events.inbound.lock()[0],
        (77011234567, "SHOP".to_string(), "Сәлем".to_string())
    );
    until("ack", LIMIT, || sim.stats().mo_acked == 1).await;
    r.shutdown.cancel();
    r.link.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_back_what_was_not_sent_and_loses_nothing() {
    let sim = SmscSim::builder()
        .receipt_delay(Duration::from_secs(60))
        .spawn()
        .await
        .unwrap();
    let r = start(config(sim.addr(), 2, 8, 200.0), 400.0);
    push(&r, 0, 2000, "slow");
    until("some handoffs", LIMIT, || {
        r.events.handed.lock().len() >= 20
    })
    .await;
    r.shutdown.cancel();
    let awaiting = r.link.join().await;
    let handed = r.events.handed.lock().len();
    let finished = r.events.finished_count();
    assert_eq!(
        awaiting.len() + finished,
        handed,
        "every handed-off dispatch is awaited or final"
    );
    // Everything not handed off is back in the queue (given back, or never taken).
    assert_eq!(handed + r.queue.len(), 2000);
    assert!(
        r.events
            .retries
            .lock()
            .iter()
            .all(|(_, why)| *why == RetryReason::LinkDown)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_without_receipt_expires() {
    let sim = SmscSim::builder()
        .receipt_delay(Duration::from_secs(60))
        .spawn()
        .await
        .unwrap();
    let mut cfg = config(sim.addr(), 1, 8, 1000.0);
    cfg.dlr_timeout = Duration::from_millis(300);
    let r = start(cfg, 1000.0);
    push(&r, 0, 5, "no receipt");
    until("expiry", LIMIT, || r.events.finished_count() == 5).await;
    let fin = r.events.finished.lock();
    assert!(
        fin.iter()
            .all(|(_, o)| o.state == FinalState::Expired
                && o.error.as_deref() == Some("dlr:timeout"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transmitter_receiver_pair_carries_submits_and_receipts_on_smpp_5() {
    let sim = SmscSim::builder().spawn().await.unwrap();
    let mut cfg = config(sim.addr(), 1, 16, 100_000.0);
    cfg.binds[0].mode = sendbox_smpp::BindMode::TransmitterReceiver;
    cfg.interface_version = sendbox_smpp::SmppVersion::V50;
    let r = start(cfg, 100_000.0);
    until("both bound", LIMIT, || r.link.binds_up() == 2).await;
    let roles: Vec<_> = r.link.status().iter().map(|s| s.role).collect();
    use sendbox_smpp::session::BindKind;
    assert_eq!(roles, vec![BindKind::Transmitter, BindKind::Receiver]);
    push(&r, 0, 300, "pair");
    until("all receipts", LIMIT, || r.events.finished_count() == 300).await;
    r.events.assert_exactly_once(300, true);
    assert_eq!(
        sim.stats().invalid_bind_state,
        0,
        "nothing submitted on the receiver"
    );
    r.shutdown.cancel();
    r.link.join().await;
}
