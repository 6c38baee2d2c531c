//! A voice call interrupted by a restart between two attempts: the engine stops while the
//! call waits for its retry, starts again on the same store, and the call continues with its
//! second (and, with `max_attempts = 2`, last) attempt. Its receipt counts both attempts' fees,
//! the account is debited exactly that, and the trunk is called no more than twice.

mod common;

use common::voice::{self, SIP_OPERATOR};
use common::{ACME, ADMIN, Engine, Opts};
use sendbox_dispatch::Channel;
use sendbox_sip_sim::{Behaviour, CallResult};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// Busy on the first INVITE, answered on the next.
const BUSY_THEN_ANSWER: &str = "77070000001";
/// Busy on every INVITE.
const ALWAYS_BUSY: &str = "77070000002";

const OPENING: i64 = 100_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_between_attempts_continues_after_a_restart_with_its_next_attempt_and_fees() {
    let sim = voice::sip_sim(|b| {
        b.rule_first_calls(
            &format!("*{}", &BUSY_THEN_ANSWER[7..]),
            1,
            Behaviour::Busy(486),
        )
        .rule(&format!("*{}", &ALWAYS_BUSY[7..]), Behaviour::Busy(486))
        .default(Behaviour::answer())
    })
    .await;

    // First run: a retry interval far longer than the test, so attempt 2 cannot start before
    // the stop.
    let opts = |retry: &str| Opts {
        extra: voice::extra(sim.addr(), retry),
        ..Opts::default()
    };
    let e = Engine::start(opts("1h")).await;
    let audio = voice::upload_prompt(&e).await;
    let (status, body) = e
        .post(
            "/v1/campaigns",
            ACME,
            json!({"channel": "voice", "audio_id": audio, "class": "service",
                   "recipients": [BUSY_THEN_ANSWER, ALWAYS_BUSY]}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let op = e
        .app
        .core
        .tables
        .load()
        .names
        .operator_index(SIP_OPERATOR)
        .unwrap();
    let retried = || {
        e.app
            .core
            .stats
            .link(op.0, Channel::Voice)
            .map_or(0, |s| s.retried.load(std::sync::atomic::Ordering::Relaxed))
    };
    e.wait(
        || retried() >= 2,
        "both first attempts busy and waiting for a retry",
    )
    .await;
    assert!(
        e.receipts(ACME).await.is_empty(),
        "no receipt before the retry"
    );
    let (dir, smsc) = e.stop().await;
    assert_eq!(
        sim.stats().calls_received,
        2,
        "one INVITE per number before the stop"
    );

    // Second run on the same store, now with a short retry interval: an engine that restarted
    // the calls at attempt 1 would quickly place a third INVITE to the always-busy number.
    let e = Engine::start_in(dir, smsc, opts("300ms")).await;
    // The ended attempts stored their retry time (1 h after them on the engine's clock): the
    // restart honours it, nothing leaves before.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        sim.stats().calls_received,
        2,
        "no attempt before the stored retry time"
    );
    let start: jiff::Timestamp = Opts::default().start.parse().unwrap();
    e.clock.set(
        start
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap(),
    );
    for _ in 0..150 {
        if e.receipts(ACME).await.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Anything the old behaviour would still do (an extra attempt) has time to show.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let receipts = e.receipts(ACME).await;
    let (_, acct) = e
        .get(&format!("/v1/admin/accounts/{}", "acme"), ADMIN)
        .await;
    let (dir, _smsc) = e.stop().await;

    assert_eq!(
        receipts.len(),
        2,
        "exactly one receipt per dispatch: {receipts:#?}"
    );
    let by_number: BTreeMap<&str, &Value> = receipts
        .iter()
        .map(|r| (r["msisdn"].as_str().unwrap(), r))
        .collect();
    assert_eq!(by_number.len(), 2, "{receipts:#?}");
    let answered = by_number[BUSY_THEN_ANSWER];
    let busy = by_number[ALWAYS_BUSY];
    assert_eq!(answered["state"], "answered", "{answered}");
    assert_eq!(busy["state"], "busy", "{busy}");
    assert_eq!(answered["attempt"], 2, "{answered}");
    assert_eq!(busy["attempt"], 2, "ends after attempt 2 (max 2): {busy}");

    // The ledger: two attempt fees each, plus the answered seconds of the one answered.
    let debits = voice::ledger_debits(dir.path());
    for r in [answered, busy] {
        let id: u64 = r["dispatch_id"].as_str().unwrap().parse().unwrap();
        let rows = &debits[&id];
        let attempts: Vec<u16> = rows.iter().map(|(a, _)| *a).collect();
        let total: i64 = rows.iter().map(|(_, t)| t).sum();
        assert_eq!(
            r["cost_tiyn"].as_i64().unwrap(),
            total,
            "receipt cost = the ledger's debits {rows:?}: {r}"
        );
        let fees: Vec<i64> = rows
            .iter()
            .filter(|(a, _)| *a < 1000)
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(
            fees,
            vec![voice::ATTEMPT_FEE, voice::ATTEMPT_FEE],
            "{rows:?}"
        );
        if r["state"] == "answered" {
            let secs = r["billable_seconds"].as_i64().unwrap();
            assert!(secs >= 1, "{r}");
            assert_eq!(attempts, vec![1, 2, 1002], "{rows:?}");
            assert_eq!(
                total,
                2 * voice::ATTEMPT_FEE + secs * voice::SECOND_PRICE,
                "{r}"
            );
        } else {
            assert_eq!(attempts, vec![1, 2], "{rows:?}");
        }
    }
    let billed: i64 = receipts
        .iter()
        .map(|r| r["cost_tiyn"].as_i64().unwrap())
        .sum();
    assert_eq!(acct["reserved_tiyn"], 0, "nothing left on hold: {acct}");
    assert_eq!(
        acct["available_tiyn"].as_i64().unwrap(),
        OPENING - billed,
        "the balance dropped by what the receipts say: {acct}"
    );

    // The trunk saw exactly two INVITEs per number: busy, then answered / busy again.
    let stats = sim.stats();
    assert_eq!(stats.calls_received, 4, "{:?}", stats.per_call);
    let results = |n: &str| -> Vec<CallResult> {
        stats
            .per_call
            .iter()
            .filter(|c| c.number == n)
            .map(|c| c.result)
            .collect()
    };
    assert_eq!(
        results(BUSY_THEN_ANSWER),
        vec![CallResult::Busy(486), CallResult::Answered]
    );
    assert_eq!(
        results(ALWAYS_BUSY),
        vec![CallResult::Busy(486), CallResult::Busy(486)]
    );
}
