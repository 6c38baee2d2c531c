//! A stop in the middle of a campaign, then a start: every dispatch ends with exactly one
//! receipt, and nothing is billed twice.

mod common;

use common::{ACME, Engine, Opts};
use sendbox_smsc_sim::{SmscSim, Stat};
use std::collections::HashSet;
use std::time::Duration;

async fn slow_smsc() -> sendbox_smsc_sim::SimHandle {
    SmscSim::builder()
        .credentials("sb", "pw")
        .latency(Duration::from_millis(2))
        .receipt_delay(Duration::from_millis(300))
        .status_mix(&[(Stat::Delivrd, 1)])
        .spawn()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_mid_campaign_then_a_start_finishes_it_with_every_receipt_once() {
    let dir = tempfile::tempdir().unwrap();
    let smsc = vec![slow_smsc().await, slow_smsc().await];
    let e = Engine::start_in(dir, smsc, Opts::default()).await;
    let to: Vec<String> = (0..3000)
        .map(|i| {
            let def = if i % 2 == 0 { "701" } else { "705" };
            format!("7{def}{:07}", 2_000_000 + i)
        })
        .collect();
    let refs: Vec<&str> = to.iter().map(String::as_str).collect();
    for chunk in refs.chunks(1000) {
        e.sms(ACME, chunk, "restart test").await;
    }
    // Stop while some are final, some await receipts and some are still queued.
    e.wait(|| e.finals() >= 200, "the first receipts").await;
    let before = e.finals();
    assert!(
        before < 3000,
        "the campaign finished before the stop ({before})"
    );
    let (dir, smsc) = e.stop().await;

    let e = Engine::start_in(dir, smsc, Opts::default()).await;
    let mut receipts = Vec::new();
    for _ in 0..200 {
        receipts = e.receipts(ACME).await;
        if receipts.len() >= 3000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        receipts.len(),
        3000,
        "every accepted dispatch ends with a receipt"
    );
    let ids: HashSet<&str> = receipts
        .iter()
        .map(|r| r["dispatch_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3000, "exactly one receipt per dispatch");
    let delivered = receipts
        .iter()
        .filter(|r| r["state"] == "delivered")
        .count();
    assert_eq!(delivered, 3000);
    let billed: i64 = receipts
        .iter()
        .map(|r| r["cost_tiyn"].as_i64().unwrap())
        .sum();
    let expected: i64 = receipts
        .iter()
        .map(|r| if r["operator"] == "kcell" { 1200 } else { 1100 })
        .sum();
    assert_eq!(
        billed, expected,
        "every dispatch billed once at its operator's price"
    );
    let (_, acct) = e.get("/v1/admin/accounts/acme", common::ADMIN).await;
    assert_eq!(acct["reserved_tiyn"], 0, "nothing left on hold: {acct}");
    // The balance after restart comes from the ledger: opening minus every debit.
    assert_eq!(
        acct["available_tiyn"].as_i64().unwrap(),
        100_000_000 - billed,
        "{acct}"
    );
    e.stop().await;
}
