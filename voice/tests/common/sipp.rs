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
/// when `tcp`; returns the child and its SIP port once sipp holds its ports.
///
/// A port from `free_*_port` is free when picked, but a test running at the same time can
/// bind it before sipp does; sipp then exits at once (errno 98) and the call placed to it
/// would fail. That is a race of the test, not a failure of sipp or of ours, so sipp is
/// started again on other ports (at most three times) before any call is placed.
pub async fn sipp_uas(file: &str, tcp: bool) -> (tokio::process::Child, u16) {
    for _ in 0..3 {
        let port = if tcp {
            free_tcp_port()
        } else {
            free_udp_port()
        };
        let media = free_udp_port();
        let mut child = spawn_sipp(file, tcp, port, media);
        if holds_ports(&mut child, tcp, port).await {
            return (child, port);
        }
        eprintln!("sipp exited before holding its ports; starting it on other ports");
    }
    panic!("sipp exited at start three times");
}

fn spawn_sipp(file: &str, tcp: bool, port: u16, media: u16) -> tokio::process::Child {
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
    cmd.args(["-mi", "127.0.0.1", "-mp", &media.to_string(), "-rtp_echo"])
        .args(["-m", "1", "-nostdin", "-timeout", "20", "-timeout_error"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start sipp")
}

/// Whether sipp came up: its SIP port is bound (TCP: listening) and sipp is still running
/// a moment later (sipp exits at once when it cannot bind a port, so a port taken by another
/// test shows as sipp exiting). Up to 15 s for sipp to start on a loaded machine.
async fn holds_ports(child: &mut tokio::process::Child, tcp: bool, port: u16) -> bool {
    for _ in 0..300 {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        if bound(tcp, port) {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            return matches!(child.try_wait(), Ok(None));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("sipp did not take its port {port} in 15 s");
}

/// Whether something has bound 127.0.0.1:`port` (TCP: and listens), read from
/// /proc/net/{tcp,udp}: probing by binding or connecting would race with sipp's own bind or
/// show it a stray connection.
fn bound(tcp: bool, port: u16) -> bool {
    let table = std::fs::read_to_string(if tcp {
        "/proc/net/tcp"
    } else {
        "/proc/net/udp"
    })
    .unwrap_or_default();
    let local = format!(":{port:04X}");
    // Columns: sl, local_address, rem_address, st (TCP 0A = LISTEN).
    table.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3 && f[1].ends_with(&local) && (!tcp || f[3] == "0A")
    })
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
