//! sipp (Debian package `sip-tester`) as an independent UAS for the call tests: skipped with
//! a loud message when sipp is not installed, unless `SENDBOX_REQUIRE_SIPP=1` (CI sets it).

use std::process::Stdio;

pub fn sipp_available() -> bool {
    let found = std::process::Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var("SENDBOX_REQUIRE_SIPP").as_deref() != Ok("1"),
            "sipp is required (SENDBOX_REQUIRE_SIPP=1) but not installed"
        );
        eprintln!(
            "SKIPPED: sipp not installed (apt-get install sip-tester); the sipp call tests did not run"
        );
    }
    found
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scenario(name: &str) -> String {
    format!("{}/../load-tests/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// sipp as a UAS playing `file` for one call over UDP, or over TCP (`-t t1`, one socket)
/// when `tcp`; returns the child and its SIP port.
pub fn sipp_uas(file: &str, tcp: bool) -> (tokio::process::Child, u16) {
    let port = if tcp {
        free_tcp_port()
    } else {
        free_udp_port()
    };
    let media = free_udp_port();
    let mut cmd = tokio::process::Command::new("sipp");
    cmd.args([
        "-sf",
        &scenario(file),
        "-i",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ]);
    if tcp {
        cmd.args(["-t", "t1"]);
    }
    let child = cmd
        .args(["-mi", "127.0.0.1", "-mp", &media.to_string(), "-rtp_echo"])
        .args(["-m", "1", "-nostdin", "-timeout", "20", "-timeout_error"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start sipp");
    (child, port)
}

/// Dispatch `id`, placed to sipp answering (`uas_answer.xml`, one call), ends answered with
/// the whole 1 s prompt played, and sipp, which judges the call itself, exits successfully.
pub async fn expect_answered_by_sipp(
    ev: &super::Recorder,
    sipp: &mut tokio::process::Child,
    id: u64,
    within: std::time::Duration,
) {
    ev.until(within, |r| r.finished.lock().len() == 1).await;
    let o = ev.outcome(id);
    assert_eq!(o.state, sendbox_dispatch::FinalState::Answered, "{o:?}");
    let call = o.call.unwrap();
    assert_eq!(call.sip_status, 200);
    assert_eq!(call.heard_ms, 1000, "the whole prompt was played");
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), sipp.wait())
        .await
        .expect("sipp exits after its one call")
        .unwrap();
    assert!(
        status.success(),
        "sipp counted the call as failed: {status}"
    );
}
