//! The call link against an independent SIP peer: `sipp` (Debian package `sip-tester`) as the
//! operator's trunk, answering or busy. Skipped with a loud message when sipp is not installed,
//! unless `SENDBOX_REQUIRE_SIPP=1` (CI sets it).

mod common;

use common::sipp::{expect_answered_by_sipp, sipp_available, sipp_uas};
use common::{dispatch, link};
use sendbox_dispatch::RetryReason;
use sendbox_voice::SipTrunkConfig;
use std::time::Duration;

fn trunk(port: u16, rtp_base: u16) -> SipTrunkConfig {
    let mut cfg = SipTrunkConfig::new(sendbox_dispatch::OperatorId(0), "127.0.0.1", port);
    cfg.rtp_port_range = rtp_base..=rtp_base + 99;
    cfg.max_calls_per_second = 100.0;
    cfg
}

#[tokio::test]
async fn a_call_to_sipp_answering_plays_the_prompt_and_hangs_up() {
    if !sipp_available() {
        return;
    }
    let (mut sipp, port) = sipp_uas("uas_answer.xml", false).await;
    let (h, ev, _q, shutdown) = link(trunk(port, 47000), vec![dispatch(1, 77010000001, 1000, 1)]);
    expect_answered_by_sipp(&ev, &mut sipp, 1, Duration::from_secs(10)).await;
    shutdown.cancel();
    h.join().await;
}

#[tokio::test]
async fn a_call_to_sipp_busy_is_busy_and_comes_back_for_another_attempt() {
    if !sipp_available() {
        return;
    }
    let (mut sipp, port) = sipp_uas("uas_busy.xml", false).await;
    let (h, ev, _q, shutdown) = link(trunk(port, 47200), vec![dispatch(2, 77010000002, 1000, 1)]);
    ev.until(Duration::from_secs(10), |r| {
        r.retried.lock().len() + r.finished.lock().len() == 1
    })
    .await;
    let retried = ev.retried.lock().clone();
    assert_eq!(
        retried,
        vec![(2, 2, RetryReason::NewAttempt)],
        "busy is retried as attempt 2"
    );
    let status = tokio::time::timeout(Duration::from_secs(10), sipp.wait())
        .await
        .expect("sipp exits after its one call")
        .unwrap();
    assert!(status.success(), "sipp: {status}");
    shutdown.cancel();
    h.join().await;
}
