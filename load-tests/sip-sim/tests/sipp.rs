//! Interop with an independent peer: sipp (Debian package `sip-tester`).
//!
//! sipp plays UAS with the scenario files in `load-tests/sipp/` while the test UAC calls it, and
//! plays its built-in UAC against the simulator. Skipped (with a note) when `sipp` is not on PATH.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::{InviteOpts, Uac, answer_rtp, code, stream_rtp};
use rsip::prelude::*;
use sendbox_sip_sim::{Behaviour, SipSim};
use tokio::process::{Child, Command};

fn sipp_available() -> bool {
    let found = std::process::Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("sipp not installed (apt-get install sip-tester); skipping");
    }
    found
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sipp")
        .join(name)
}

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `sipp -sf FILE -i 127.0.0.1 -p PORT -m 1 ...` as a UAS for one call.
fn sipp_uas(file: &str, port: u16, media_port: u16, dir: &std::path::Path) -> Child {
    Command::new("sipp")
        .current_dir(dir)
        .arg("-sf")
        .arg(scenario(file))
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-mi",
            "127.0.0.1",
            "-mp",
            &media_port.to_string(),
        ])
        .args([
            "-rtp_echo",
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "10",
            "-timeout_error",
            "-trace_stat",
            "-stf",
            "stats.csv",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("sipp starts")
}

/// Start sipp as a UAS running `file` on fresh ports, and send the INVITE from a new UAC
/// until it answers with anything: every 100 ms for up to 15 s (a loaded CI machine once took
/// longer than 2 s to start sipp).
///
/// A port from `free_port` is free when picked, but another test running at the same time
/// can bind it before sipp does; sipp then exits at once. That is a race of the test, not a
/// failure of sipp or of ours, so sipp is started again on other ports (at most three times).
async fn uas_answering(
    file: &str,
    dir: &std::path::Path,
    user: &str,
    branch: &str,
) -> (Child, Uac, rsip::Response) {
    for _ in 0..3 {
        let (port, media_port) = (free_port(), free_port());
        let mut child = sipp_uas(file, port, media_port, dir);
        let uac = Uac::new(format!("127.0.0.1:{port}").parse().unwrap(), user).await;
        for _ in 0..150 {
            if let Ok(Some(status)) = child.try_wait() {
                eprintln!("sipp exited before answering ({status}); starting it on other ports");
                break;
            }
            uac.invite(InviteOpts {
                cseq: 1,
                branch,
                auth: None,
                sdp: Some(uac.offer()),
            })
            .await;
            let mut buf = vec![0u8; 65535];
            if let Ok(Ok((n, _))) =
                tokio::time::timeout(Duration::from_millis(100), uac.sip.recv_from(&mut buf)).await
                && let Ok(rsip::SipMessage::Response(r)) = rsip::SipMessage::try_from(&buf[..n])
            {
                return (child, uac, r);
            }
        }
        if child.try_wait().ok().flatten().is_none() {
            panic!("sipp never answered (running for 15 s)");
        }
    }
    panic!("sipp exited before answering three times");
}

async fn exit_code(mut child: Child) -> Option<i32> {
    tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("sipp exits")
        .unwrap()
        .code()
}

#[tokio::test]
async fn sipp_uas_answer_scenario_answers_echoes_rtp_and_accepts_bye() {
    if !sipp_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("sip-sim-sipp-answer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (child, uac, mut r) =
        uas_answering("uas_answer.xml", &dir, "77017770001", "z9hG4bKs1").await;
    while code(&r) < 200 {
        r = uac.response().await;
    }
    assert_eq!(code(&r), 200);
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert!(body.contains("RTP/AVP 8 101"), "{body}");
    uac.ack(&r, 1, "z9hG4bKs1ack", None).await;
    stream_rtp(&uac.rtp, answer_rtp(&r), 10).await;
    let mut buf = [0u8; 1500];
    let echoed =
        tokio::time::timeout(Duration::from_millis(500), uac.rtp.recv_from(&mut buf)).await;
    assert!(echoed.is_ok(), "sipp -rtp_echo sends our RTP back");
    uac.bye(&r, 2).await;
    let bye_ok = uac.response().await;
    assert_eq!(
        (
            code(&bye_ok),
            bye_ok.cseq_header().unwrap().method().unwrap()
        ),
        (200, rsip::Method::Bye)
    );
    assert_eq!(
        exit_code(child).await,
        Some(0),
        "sipp counts the call as successful"
    );
    let stats = std::fs::read_to_string(dir.join("stats.csv")).unwrap_or_default();
    assert!(stats.starts_with("StartTime;"), "stats file written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sipp_uas_busy_scenario_returns_486() {
    if !sipp_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("sip-sim-sipp-busy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (child, uac, mut r) = uas_answering("uas_busy.xml", &dir, "77017770486", "z9hG4bKs2").await;
    while code(&r) < 200 {
        r = uac.response().await;
    }
    assert_eq!(code(&r), 486);
    uac.ack(&r, 1, "z9hG4bKs2", None).await;
    assert_eq!(exit_code(child).await, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sipp_uac_calls_complete_against_the_simulator() {
    if !sipp_available() {
        return;
    }
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let sim = SipSim::builder()
        .default(Behaviour::answer_after(Duration::from_millis(20)))
        .build()
        .spawn(socket, async move { drop(rx.await) })
        .unwrap();
    let status = Command::new("sipp")
        .current_dir(std::env::temp_dir())
        .args([
            "-sn",
            "uac",
            "-i",
            "127.0.0.1",
            "-m",
            "3",
            "-r",
            "10",
            "-d",
            "200",
            "-nostdin",
            "-timeout",
            "10",
            "-timeout_error",
        ])
        .arg(sim.addr().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(Duration::from_secs(8), status)
        .await
        .expect("sipp exits")
        .unwrap();
    assert_eq!(status.code(), Some(0), "every sipp call succeeded");
    let _ = tx.send(());
    let s = sim.join().await;
    assert_eq!((s.calls_received, s.answered, s.byes_received), (3, 3, 3));
}
