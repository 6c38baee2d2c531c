//! The ingest API over a real socket, against SMSC simulators, on real SQLite.

mod common;

use common::{ACME, ADMIN, Engine, Opts, SHOP};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tokens_get_401_and_accounts_see_only_their_own_dispatches() {
    let e = Engine::start(Opts::default()).await;
    let (s, body) = e
        .post(
            "/v1/sms",
            "nope",
            json!({"to": "+77011234567", "text": "hi"}),
        )
        .await;
    assert_eq!(s, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let r = e.sms(ACME, &["+77011234567"], "hello").await;
    let id = r["results"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = e.get(&format!("/v1/dispatches/{id}"), ACME).await;
    assert_eq!(s, 200);
    let (s, body) = e.get(&format!("/v1/dispatches/{id}"), SHOP).await;
    assert_eq!(
        s, 404,
        "another account's dispatch must look absent: {body}"
    );
    let (s, _) = e.get(&format!("/v1/dispatches/{id}"), ADMIN).await;
    assert_eq!(s, 200, "the admin sees everything");
    let (s, body) = e
        .post(
            "/v1/sms",
            ADMIN,
            json!({"to": "+77011234567", "text": "hi"}),
        )
        .await;
    assert_eq!(s, 403, "{body}");
    e.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reports_bad_rows_by_field_and_accepts_the_good_ones() {
    let e = Engine::start(Opts::default()).await;
    let (s, body) = e
        .post(
            "/v1/sms",
            ACME,
            json!({"messages": [
                {"to": "+7 701 123 45 67", "text": "ok", "sender": "ACME"},
                {"to": "+77011234568", "text": "", "sender": "ACME"},
                {"to": "+77011234569", "text": "x", "sender": "EVIL"},
                {"to": "+77011234570", "txt": "typo", "sender": "ACME"},
                {"to": "+7 916 123 45 67", "text": "Russia", "sender": "ACME"},
                {"to": "+7 701 000 00 01", "text": "blacklisted", "sender": "ACME"},
            ]}),
        )
        .await;
    assert_eq!(s, 202, "{body}");
    let errors = body["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["messages[1].text", "messages[2].sender", "messages[3]"]
    );
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["status"], "queued");
    assert_eq!(results[1]["status"], "refused");
    assert_eq!(results[1]["reason"], "not_kazakhstan");
    assert_eq!(results[2]["reason"], "blacklisted");
    // Refused dispatches still get a final receipt with their reason.
    let id = results[1]["id"].as_str().unwrap();
    e.app.core.sink.drained().await;
    let (_, d) = e.get(&format!("/v1/dispatches/{id}"), ACME).await;
    assert_eq!(d["receipt"]["state"], "refused", "{d}");
    assert_eq!(d["receipt"]["error"], "not_kazakhstan");
    e.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sms_is_delivered_and_billed_exactly_once() {
    let e = Engine::start(Opts::default()).await;
    let to: Vec<String> = (0..300)
        .map(|i| format!("7701{:07}", 1_000_000 + i))
        .collect();
    let refs: Vec<&str> = to.iter().map(String::as_str).collect();
    // 80 Latin characters: one segment each.
    e.sms(ACME, &refs, &"x".repeat(80)).await;
    e.wait(|| e.finals() >= 300, "300 receipts").await;
    let receipts = e.receipts(ACME).await;
    assert_eq!(receipts.len(), 300);
    assert!(
        receipts
            .iter()
            .all(|r| r["state"] == "delivered" && r["cost_tiyn"] == 1200)
    );
    let mut ids: Vec<&str> = receipts
        .iter()
        .map(|r| r["dispatch_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 300, "one receipt per dispatch");
    let st = e.smsc[0].stats();
    assert_eq!(st.duplicates, 0);
    let (_, acct) = e.get("/v1/admin/accounts/acme", ADMIN).await;
    assert_eq!(acct["spent_tiyn"], 300 * 1200);
    assert_eq!(acct["reserved_tiyn"], 0);

    // The latency percentiles count every submit; a reset (admin only) starts them afresh
    // and keeps the counters.
    let (_, stats) = e.get("/v1/admin/stats", ADMIN).await;
    assert_eq!(stats["latency_ms"]["smpp_submit_to_response"]["count"], 300);
    assert_eq!(stats["latency_ms"]["sms_accept_to_handoff"]["count"], 300);
    let (status, _) = e.post("/v1/admin/stats/reset", ACME, json!({})).await;
    assert_eq!(status, 403, "an account may not reset the statistics");
    let (status, _) = e.post("/v1/admin/stats/reset", ADMIN, json!({})).await;
    assert_eq!(status, 204);
    let (_, stats) = e.get("/v1/admin/stats", ADMIN).await;
    assert_eq!(stats["latency_ms"]["smpp_submit_to_response"]["count"], 0);
    assert_eq!(stats["latency_ms"]["sms_accept_to_handoff"]["count"], 0);
    assert_eq!(stats["accepted"], 300, "counters are kept");
    e.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_the_window_nothing_leaves_until_it_opens() {
    // 20:30 Almaty: closed until 09:00 tomorrow.
    let e = Engine::start(Opts {
        start: "2026-11-25T15:30:00Z",
        ..Opts::default()
    })
    .await;
    let r = e.sms(ACME, &["+77011234567", "+77051234567"], "late").await;
    assert_eq!(r["results"][0]["status"], "deferred", "{r}");
    assert_eq!(r["results"][0]["not_before"], "2026-11-26T04:00:00Z");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    e.clock.set("2026-11-26T03:59:59Z".parse().unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        e.smsc[0].stats().submits_received + e.smsc[1].stats().submits_received,
        0,
        "sent early"
    );
    e.clock.set("2026-11-26T04:00:00Z".parse().unwrap());
    e.wait(|| e.finals() >= 2, "2 receipts after the opening")
        .await;
    let receipts = e.receipts(ACME).await;
    for r in &receipts {
        assert_eq!(r["inside_window"], true);
        assert!(
            r["handed_off_local"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-26T09:00"),
            "{r}"
        );
    }
    let (_, h) = e.get("/v1/history?msisdn=87011234567", ACME).await;
    assert_eq!(h["dispatches"][0]["inside_window"], true, "{h}");
    e.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_balance_pauses_the_account_and_a_topup_resumes_it() {
    // 3 messages of 1200 tiyn fit in 4000 tiyn; the other 2 wait.
    let e = Engine::start(Opts {
        shop_balance: 4000,
        ..Opts::default()
    })
    .await;
    let r = e
        .sms(
            SHOP,
            &[
                "77011000001",
                "77011000002",
                "77011000003",
                "77011000004",
                "77011000005",
            ],
            "hi",
        )
        .await;
    let statuses: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "queued",
            "queued",
            "queued",
            "insufficient_funds",
            "insufficient_funds"
        ]
    );
    e.wait(|| e.finals() >= 3, "3 receipts").await;
    let (_, acct) = e.get("/v1/admin/accounts/shop", ADMIN).await;
    assert_eq!(acct["state"], "insufficient_funds");
    assert_eq!(acct["available_tiyn"], 400);
    assert_eq!(acct["waiting_for_funds"], 2);
    let (s, _) = e
        .post(
            "/v1/admin/accounts/shop/topup",
            ADMIN,
            json!({"amount_tiyn": 5000}),
        )
        .await;
    assert_eq!(s, 200);
    e.wait(|| e.finals() >= 5, "5 receipts").await;
    let (_, acct) = e.get("/v1/admin/accounts/shop", ADMIN).await;
    assert_eq!(acct["spent_tiyn"], 6000);
    assert_eq!(acct["available_tiyn"], 3000);
    assert_eq!(acct["state"], "active");
    e.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queues_answer_429_with_retry_after() {
    // Window closed: dispatches wait in the deferral heap, so the queue holds only new ones
    // admitted now; a tiny capacity makes the second batch overflow.
    let e = Engine::start(Opts {
        queue_capacity: 3,
        start: "2026-11-25T05:00:00Z",
        ..Opts::default()
    })
    .await;
    let to = ["77011000001", "77011000002", "77011000003", "77011000004"];
    let msgs: Vec<_> = to
        .iter()
        .map(|t| json!({"to": t, "text": "x", "sender": "ACME"}))
        .collect();
    let r = e
        .client
        .post(format!("{}/v1/sms", e.api))
        .bearer_auth(ACME)
        .json(&json!({ "messages": msgs }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    e.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_max_batch_is_refused_whole_with_413() {
    let e = Engine::start(Opts::default()).await;
    // The default api.max_batch is 10,000.
    let rows: Vec<Value> = (0..10_001)
        .map(|i| json!({"to": format!("+7701{:07}", i), "text": "t", "sender": "ACME"}))
        .collect();
    let (s, body) = e.post("/v1/sms", ACME, json!({ "messages": rows })).await;
    assert_eq!(s, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("api.max_batch = 10000"),
        "{body}"
    );
    // Nothing of it was taken.
    let accepted = &e.app.core.stats.accepted;
    assert_eq!(accepted.load(std::sync::atomic::Ordering::Relaxed), 0);
    e.stop().await;
}
