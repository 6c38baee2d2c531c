//! The call link against the SIP simulator (`load-tests/sip-sim`) over 127.0.0.1.

mod common;

use common::{dispatch, link, sim, trunk};
use sendbox_dispatch::{FinalState, RetryReason};
use sendbox_sip_sim::{Behaviour, DigestAlgorithm, SipSim};
use std::time::Duration;

const SECS5: Duration = Duration::from_secs(5);

#[tokio::test]
async fn answered_call_streams_clean_rtp_and_records_dtmf_in_the_receipt() {
    let dtmf = Behaviour::Answer {
        ring: Duration::from_millis(100),
        hangup_after: None,
        dtmf: vec![('7', Duration::from_millis(100))],
    };
    let (sim, _stop) = sim(SipSim::builder().default(dtmf)).await;
    let (link, ev, _q, shutdown) = link(trunk(&sim), vec![dispatch(1, 77010000001, 600, 1)]);
    ev.until(SECS5, |r| r.finished.lock().len() == 1).await;
    let o = ev.outcome(1);
    assert_eq!(o.state, FinalState::Answered);
    let d = o.call.unwrap();
    assert_eq!((d.sip_status, d.heard_ms, d.prompt_ms), (200, 600, 600));
    assert_eq!(d.digits.len(), 1, "{:?}", d.digits);
    assert_eq!(d.digits[0].0, '7');
    assert!(d.digits[0].1 >= 50 && d.digits[0].1 < 400, "{:?}", d.digits);
    assert!(d.ring_at.is_some() && d.answer_at > d.ring_at);
    assert_eq!(o.billable_seconds, 1);
    for _ in 0..100 {
        if sim
            .stats()
            .call("77010000001")
            .is_some_and(|c| c.rtp_packets >= 30)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = sim.stats();
    let rec = stats.call("77010000001").expect("sim saw the call");
    assert_eq!(rec.rtp_packets, 30, "600 ms = 30 packets");
    assert!(rec.first_marker_seen && rec.seq_ok && rec.ts_ok, "{rec:?}");
    assert_eq!(rec.payload_type, Some(8));
    assert_eq!(rec.rtp_lost, 0);
    assert_eq!(stats.byes_received, 1);
    shutdown.cancel();
    link.join().await;
}

#[tokio::test]
async fn sha256_proxy_challenge_is_answered_and_the_call_proceeds() {
    let b = SipSim::builder()
        .credentials("trunkuser", "s3cret")
        .default(Behaviour::Challenge {
            realm: "kz".into(),
            kind: 407,
            algorithm: DigestAlgorithm::Sha256,
            then: Box::new(Behaviour::answer()),
        });
    let (sim, _stop) = sim(b).await;
    let mut cfg = trunk(&sim);
    cfg.auth_user = Some("trunkuser".into());
    cfg.auth_password = Some("s3cret".into());
    let (link, ev, _q, shutdown) = link(cfg, vec![dispatch(1, 77010000002, 100, 1)]);
    ev.until(SECS5, |r| r.finished.lock().len() == 1).await;
    assert_eq!(ev.outcome(1).state, FinalState::Answered);
    assert_eq!(sim.stats().auth_failures, 0);
    shutdown.cancel();
    link.join().await;
}

#[tokio::test]
async fn failures_map_to_states_and_only_busy_and_no_answer_come_back() {
    let b = SipSim::builder()
        .default(Behaviour::answer())
        .rule("*0486", Behaviour::Busy(486))
        .rule("*0603", Behaviour::Busy(603))
        .rule("*0404", Behaviour::Reject(404))
        .rule("*0480", Behaviour::Reject(480))
        .rule("*0503", Behaviour::Reject(503))
        .rule("*0999", Behaviour::NoAnswer);
    let (sim, _stop) = sim(b).await;
    let mut cfg = trunk(&sim);
    cfg.ring_timeout = Duration::from_millis(300);
    cfg.min_ring_time = Duration::from_millis(200);
    let ds = [
        (1, 77010000486),
        (2, 77010000603),
        (3, 77010000404),
        (4, 77010000480),
        (5, 77010000503),
        (6, 77010000999),
    ]
    .into_iter()
    .map(|(id, n)| dispatch(id, n, 100, 1))
    .collect();
    let (link, ev, _q, shutdown) = link(cfg, ds);
    ev.until(SECS5, |r| {
        r.finished.lock().len() + r.retried.lock().len() == 6
    })
    .await;
    let mut retried: Vec<_> = ev.retried.lock().clone();
    retried.sort_by_key(|r| r.0);
    assert_eq!(
        retried,
        vec![
            (1, 2, RetryReason::NewAttempt),
            (4, 2, RetryReason::NewAttempt),
            (5, 2, RetryReason::NewAttempt),
            (6, 2, RetryReason::NewAttempt)
        ]
    );
    assert_eq!(ev.outcome(2).state, FinalState::Rejected);
    assert_eq!(ev.outcome(2).error.as_deref(), Some("sip:603"));
    assert_eq!(ev.outcome(3).state, FinalState::InvalidNumber);
    assert_eq!(sim.stats().cancelled, 1, "the no-answer call was cancelled");
    assert_eq!(ev.handed.lock().len(), 6, "every INVITE is an attempt fee");
    shutdown.cancel();
    link.join().await;
}

#[tokio::test]
async fn last_attempt_reports_the_state_instead_of_retrying() {
    let (sim, _stop) = sim(SipSim::builder().default(Behaviour::Busy(486))).await;
    let mut cfg = trunk(&sim);
    cfg.max_attempts = 2;
    let mut d = dispatch(1, 77010000486, 100, 1);
    d.attempt = 2;
    let (link, ev, _q, shutdown) = link(cfg, vec![d]);
    ev.until(SECS5, |r| r.finished.lock().len() == 1).await;
    let o = ev.outcome(1);
    assert_eq!(
        (o.state, o.call.unwrap().sip_status),
        (FinalState::Busy, 486)
    );
    shutdown.cancel();
    link.join().await;
}

#[tokio::test]
async fn remote_hangup_mid_prompt_is_answered_and_heard_ms_is_partial() {
    let b = SipSim::builder().default(Behaviour::Answer {
        ring: Duration::ZERO,
        hangup_after: Some(Duration::from_millis(300)),
        dtmf: vec![],
    });
    let (sim, _stop) = sim(b).await;
    let (link, ev, _q, shutdown) = link(trunk(&sim), vec![dispatch(1, 77010000003, 2000, 1)]);
    ev.until(SECS5, |r| r.finished.lock().len() == 1).await;
    let o = ev.outcome(1);
    assert_eq!(o.state, FinalState::Answered);
    let heard = o.call.unwrap().heard_ms;
    assert!((200..=600).contains(&heard), "heard {heard} ms of 2000");
    assert_eq!(sim.stats().byes_sent, 1);
    shutdown.cancel();
    link.join().await;
}

#[tokio::test]
async fn shutdown_byes_answered_calls_and_cancels_ringing_ones_after_min_ring() {
    let b = SipSim::builder()
        .default(Behaviour::answer())
        .rule("*0999", Behaviour::NoAnswer);
    let (sim, _stop) = sim(b).await;
    let mut cfg = trunk(&sim);
    cfg.min_ring_time = Duration::from_millis(500);
    let (link, ev, _q, shutdown) = link(
        cfg,
        vec![
            dispatch(1, 77010000001, 10_000, 1),
            dispatch(2, 77010000999, 100, 1),
        ],
    );
    ev.until(SECS5, |r| r.handed.lock().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(link.active_calls(), 2);
    let t = tokio::time::Instant::now();
    shutdown.cancel();
    tokio::time::timeout(SECS5, link.join())
        .await
        .expect("link stops");
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "the ringing call rang its minimum first"
    );
    let answered = ev.outcome(1);
    assert_eq!(answered.state, FinalState::Answered);
    assert!(answered.call.unwrap().heard_ms < 10_000);
    assert_eq!(ev.outcome(2).state, FinalState::Cancelled);
    let s = sim.stats();
    assert_eq!((s.byes_received, s.cancelled), (1, 1));
}

#[tokio::test]
async fn trunk_limits_concurrent_calls_and_calls_per_second() {
    let (sim, _stop) = sim(SipSim::builder().default(Behaviour::answer())).await;
    let mut cfg = trunk(&sim);
    cfg.max_concurrent_calls = 2;
    cfg.max_calls_per_second = 20.0;
    let ds = (0..6)
        .map(|i| dispatch(i, 77010000100 + i, 200, 1))
        .collect();
    let t0 = tokio::time::Instant::now();
    let (link, ev, _q, shutdown) = link(cfg, ds);
    let mut most = 0;
    while ev.finished.lock().len() < 6 {
        most = most.max(link.active_calls());
        assert!(t0.elapsed() < SECS5, "calls did not finish");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(most <= 2, "at most 2 calls at once, saw {most}");
    // Three rounds of two 200 ms prompts: at least 600 ms.
    assert!(
        t0.elapsed() >= Duration::from_millis(600),
        "{:?}",
        t0.elapsed()
    );
    let handed = ev.handed.lock().clone();
    let first = handed.first().unwrap().1.at;
    let second = handed.get(1).unwrap().1.at;
    assert!(
        second.duration_since(first).as_millis() >= 40,
        "20 calls/s spaces INVITEs 50 ms apart"
    );
    shutdown.cancel();
    link.join().await;
}
