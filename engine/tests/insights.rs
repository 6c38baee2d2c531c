//! Validation, skipping unreachable numbers, and campaign reports, over the real API.

mod common;

use common::{ACME, ADMIN, Engine, Opts};
use sendbox_smsc_sim::{SmscSim, Stat};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_flags_what_history_knows_and_campaigns_can_skip_unreachable_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let kcell = common::smsc().await;
    // Beeline's SMSC says every message is undeliverable: a permanent failure.
    let beeline = SmscSim::builder()
        .credentials("sb", "pw")
        .receipt_delay(Duration::from_millis(5))
        .status_mix(&[(Stat::Undeliv, 1)])
        .spawn()
        .await
        .unwrap();
    let e = Engine::start_in(dir, vec![kcell, beeline], Opts::default()).await;
    for _ in 0..2 {
        e.sms(ACME, &["77051112233", "77011112233"], "hello").await;
        let target = e.finals() + 2;
        e.wait(|| e.finals() >= target, "two receipts").await;
    }
    e.app.core.sink.drained().await;
    let (s, body) = e.post("/v1/admin/scores/retrain", ADMIN, json!({})).await;
    assert_eq!(s, 200, "{body}");

    let csv =
        "phone\n+7 705 111 22 33\n87011112233\n87011112233\n+7 916 000 00 00\n+7 701 000 00 01\n";
    let r = e
        .client
        .post(format!("{}/v1/validate?format=csv", e.api))
        .bearer_auth(ACME)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let out = r.text().await.unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.len() >= 5,
        "a header and a row per distinct number: {out}"
    );
    let row = |needle: &str| {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .copied()
            .unwrap_or("")
    };
    assert!(
        row("77051112233").contains("true"),
        "beeline number unreachable: {out}"
    );
    assert!(row("916").contains("not_kazakhstan"), "{out}");
    assert!(row("77010000001").contains("true"), "blacklisted: {out}");
    let r = e
        .client
        .post(format!("{}/v1/validate", e.api))
        .bearer_auth(ACME)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let summary: serde_json::Value = r.json().await.unwrap();
    assert!(summary["summary"].is_object(), "{summary}");

    let target = e.finals() + 2;
    let (s, c) = e
        .post(
            "/v1/campaigns",
            ACME,
            json!({"text": "again", "sender": "ACME", "skip_unreachable": true,
                   "recipients": ["77051112233", "77011112233"]}),
        )
        .await;
    assert_eq!(s, 202, "{c}");
    assert_eq!(c["refused"], 1, "{c}");
    assert_eq!(c["refused_rows"][0]["reason"], "unreachable", "{c}");
    let id = c["campaign_id"].as_str().unwrap().to_owned();
    e.wait(|| e.finals() >= target, "campaign receipts").await;
    e.app.core.sink.drained().await;

    let r = e
        .client
        .get(format!("{}/v1/campaigns/{id}/report?format=html", e.api))
        .bearer_auth(ACME)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<svg") && !html.contains("<script"),
        "a chart, no scripts"
    );
    let (s, report) = e.get(&format!("/v1/campaigns/{id}/report"), ACME).await;
    assert_eq!(s, 200, "{report}");
    let (s, _) = e
        .get(&format!("/v1/campaigns/{id}/report"), common::SHOP)
        .await;
    assert_eq!(s, 404, "another account's campaign");
    e.stop().await;
}
