//! Load checks for the simulator itself (ignored by default; run in release):
//!
//! ```sh
//! SIPSIM_CALLS=5000 SIPSIM_SECS=10 cargo test --release -p sendbox-sip-sim --test stress -- --ignored --nocapture
//! ```
//!
//! `call_setup_rate` completes INVITE/200/ACK/BYE/200 cycles with a window of outstanding calls;
//! `concurrent_rtp_calls` holds SIPSIM_CALLS calls streaming paced PCMA from their own sockets.
//! The load generator shares the machine with the simulator, so the figures are lower bounds.

#![allow(clippy::disallowed_methods)] // wall-clock pacing and measurement in a load tool

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sendbox_sip_sim::{Behaviour, SimHandle, SipSim};

/// CPU ticks (utime + stime) used so far by this process's threads whose name starts with `prefix`.
fn thread_ticks(prefix: &str) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = after.split_whitespace().collect();
        total += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    total
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn start() -> (SimHandle, tokio::sync::oneshot::Sender<()>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let sim = SipSim::builder()
        .default(Behaviour::answer())
        .rtp_sockets(env("SIPSIM_RTP_SOCKETS", 2) as usize)
        .max_call_records(0)
        .build();
    (
        sim.spawn(socket, async move { drop(rx.await) }).unwrap(),
        tx,
    )
}

fn invite(sim: SocketAddr, me: SocketAddr, id: u64, rtp_port: u16) -> String {
    let sdp = format!(
        "v=0\r\no=load {id} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 8 101\r\n\
         a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"
    );
    format!(
        "INVITE sip:7701{id:07}@{sim} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKi{id}\r\nMax-Forwards: 70\r\n\
         From: <sip:load@{me}>;tag=l{id}\r\nTo: <sip:7701{id:07}@{sim}>\r\nCall-ID: load-{id}\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:load@{me}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

fn in_dialog(
    method: &str,
    cseq: u32,
    sim: SocketAddr,
    me: SocketAddr,
    id: u64,
    to: &str,
) -> String {
    format!(
        "{method} sip:7701{id:07}@{sim} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{method}{id}\r\nMax-Forwards: 70\r\n\
         From: <sip:load@{me}>;tag=l{id}\r\nTo: {to}\r\nCall-ID: load-{id}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
}

/// (status, call id number, To value, CSeq method, SDP audio port).
fn parse(resp: &str) -> Option<(u16, u64, String, String, Option<u16>)> {
    let status = resp.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()?;
    let (mut id, mut to, mut method, mut port) = (None, String::new(), String::new(), None);
    for line in resp.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("call-id:") {
            id = line[8..]
                .trim()
                .strip_prefix("load-")
                .and_then(|v| v.parse().ok());
        } else if lower.starts_with("to:") {
            to = line[3..].trim().to_owned();
        } else if lower.starts_with("cseq:") {
            method = line.split_whitespace().last().unwrap_or("").to_owned();
        } else if let Some(rest) = line.strip_prefix("m=audio ") {
            port = rest.split_whitespace().next().and_then(|p| p.parse().ok());
        }
    }
    Some((status, id?, to, method, port))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test; run in release with --ignored"]
async fn call_setup_rate() {
    let total = env("SIPSIM_SETUPS", 5000);
    let window = env("SIPSIM_WINDOW", 200);
    let (sim, _stop) = start().await;
    let target = sim.addr();
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket2::SockRef::from(&sock)
        .set_recv_buffer_size(4 << 20)
        .unwrap();
    let me = sock.local_addr().unwrap();
    let started = Instant::now();
    let (mut sent, mut done) = (0u64, 0u64);
    while sent < window.min(total) {
        sock.send_to(invite(target, me, sent, 4000).as_bytes(), target)
            .await
            .unwrap();
        sent += 1;
    }
    let mut buf = vec![0u8; 65535];
    while done < total {
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
            .await
            .expect("responses keep coming")
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        let Some((status, id, to, method, _)) = parse(&text) else {
            continue;
        };
        match (status, method.as_str()) {
            (200, "INVITE") => {
                sock.send_to(in_dialog("ACK", 1, target, me, id, &to).as_bytes(), target)
                    .await
                    .unwrap();
                sock.send_to(in_dialog("BYE", 2, target, me, id, &to).as_bytes(), target)
                    .await
                    .unwrap();
            }
            (200, "BYE") => {
                done += 1;
                if sent < total {
                    sock.send_to(invite(target, me, sent, 4000).as_bytes(), target)
                        .await
                        .unwrap();
                    sent += 1;
                }
            }
            _ => {}
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let s = sim.stats();
    println!(
        "call_setup_rate: {total} calls (INVITE..BYE 200) in {secs:.2} s = {:.0} calls/s; answered {} byes {}",
        total as f64 / secs,
        s.answered,
        s.byes_received
    );
    assert_eq!(s.answered, total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test; run in release with --ignored"]
async fn concurrent_rtp_calls() {
    let calls = env("SIPSIM_CALLS", 2000) as usize;
    let secs = env("SIPSIM_SECS", 5);
    let (sim, _stop) = start().await;
    let target = sim.addr();
    let sip = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket2::SockRef::from(&sip)
        .set_recv_buffer_size(4 << 20)
        .unwrap();
    let me = sip.local_addr().unwrap();
    let rtp: Vec<UdpSocket> = (0..calls)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    // Set up every call, in chunks, and learn each call's RTP destination.
    let mut dest: HashMap<u64, (SocketAddr, String)> = HashMap::new();
    let mut buf = vec![0u8; 65535];
    for chunk in (0..calls as u64).collect::<Vec<_>>().chunks(250) {
        for &id in chunk {
            let port = rtp[id as usize].local_addr().unwrap().port();
            sip.send_to(invite(target, me, id, port).as_bytes(), target)
                .await
                .unwrap();
        }
        let want = dest.len() + chunk.len();
        while dest.len() < want {
            let (n, _) = tokio::time::timeout(Duration::from_secs(5), sip.recv_from(&mut buf))
                .await
                .expect("200 OK in time")
                .unwrap();
            if let Some((200, id, to, m, Some(port))) = parse(&String::from_utf8_lossy(&buf[..n]))
                && m == "INVITE"
            {
                sip.send_to(in_dialog("ACK", 1, target, me, id, &to).as_bytes(), target)
                    .await
                    .unwrap();
                dest.insert(id, (SocketAddr::new([127, 0, 0, 1].into(), port), to));
            }
        }
    }
    println!("concurrent_rtp_calls: {calls} calls up");
    // One pacing thread working in 1 ms slots: call i always sends in slot (i * 20 / calls) of
    // each 20 ms period, so its own packets are exactly 20 ms apart on the wall clock.
    let plan: Arc<Vec<(UdpSocket, SocketAddr)>> = Arc::new(
        rtp.into_iter()
            .enumerate()
            .map(|(i, s)| (s, dest[&(i as u64)].0))
            .collect(),
    );
    let packets = secs * 50;
    let sender = {
        let plan = plan.clone();
        std::thread::spawn(move || {
            let n = plan.len();
            let mut template = rtp_rs::RtpPacketBuilder::new()
                .payload_type(8)
                .ssrc(7)
                .sequence(rtp_rs::Seq::from(0))
                .timestamp(0)
                .payload(&[0xd5u8; 160])
                .build()
                .unwrap();
            let t0 = Instant::now() + Duration::from_millis(20);
            let mut worst = Duration::ZERO;
            for slot in 0..packets * 20 {
                let due = t0 + Duration::from_millis(slot);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                } else {
                    worst = worst.max(now - due);
                }
                let (k, phase) = (slot / 20, slot % 20);
                let first = (phase as usize * n).div_ceil(20);
                let last = ((phase as usize + 1) * n).div_ceil(20);
                template[1] = if k == 0 { 0x80 | 8 } else { 8 };
                template[2..4].copy_from_slice(&(k as u16).to_be_bytes());
                template[4..8].copy_from_slice(&(k as u32 * 160).to_be_bytes());
                for (sock, to) in &plan[first..last] {
                    sock.send_to(&template, to).unwrap();
                }
            }
            worst
        })
    };
    let ticks0 = thread_ticks("sip-sim-rtp");
    let worst_lag = tokio::task::spawn_blocking(move || sender.join().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let s = sim.stats();
    let rx_cpu_ms = (thread_ticks("sip-sim-rtp") - ticks0) * 10; // USER_HZ = 100
    println!(
        "concurrent_rtp_calls: RTP receiver threads used {rx_cpu_ms} ms CPU = {:.2} us/packet",
        rx_cpu_ms as f64 * 1000.0 / s.rtp_packets.max(1) as f64
    );
    for (id, (_, to)) in &dest {
        sip.send_to(in_dialog("BYE", 2, target, me, *id, to).as_bytes(), target)
            .await
            .unwrap();
    }
    println!(
        "concurrent_rtp_calls: {calls} calls x {packets} packets: received {} lost {} dup {} unmatched {}; \
         inter-arrival deviation p50 {} us p99 {} us p99.9 {} us max {} us; >2ms {}; sender worst lag {:?}",
        s.rtp_packets,
        s.rtp_lost,
        s.rtp_duplicates,
        s.rtp_unmatched,
        s.interarrival.p50_us,
        s.interarrival.p99_us,
        s.interarrival.p999_us,
        s.interarrival.max_us,
        s.rtp_late_over_2ms,
        worst_lag
    );
    assert_eq!(s.rtp_packets, calls as u64 * packets);
    assert_eq!(s.rtp_lost, 0);
}
