//! Load figures (ignored by default; run with `--release -- --ignored --nocapture`).
//!
//! - `pacer_streams_send_lateness`: `VOICE_STREAMS` (5,000) prompt streams on
//!   `VOICE_PACERS` (1) pacer threads for `VOICE_SECS` (10) s; prints per-packet lateness
//!   against the slot deadline and the process CPU.
//! - `call_setup_rate`: `VOICE_CALLS` (3,000) full calls (INVITE, 100, 200, ACK, one RTP
//!   packet, BYE, 200) against the simulator in the same process, at up to `VOICE_CPS`
//!   (1,000) calls/s.

mod common;

use common::{dispatch, link, sim, trunk};
use sendbox_sip_sim::{Behaviour, SipSim};
use sendbox_voice::rtp::pacer::StreamSpec;
use sendbox_voice::rtp::pacer_thread::{MediaStream, PacerThread};
use sendbox_voice::sdp::Codec;
use sendbox_voice::transport::RtpPorts;
use std::net::UdpSocket;
use std::time::Duration;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// CPU seconds per thread name, busiest first.
fn thread_cpu() -> Vec<(String, f64)> {
    let mut by_name = std::collections::BTreeMap::<String, f64>::new();
    for e in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let name = stat
            .split('(')
            .nth(1)
            .and_then(|s| s.split(')').next())
            .unwrap_or("?")
            .to_string();
        let f: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let t: f64 = f.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
            + f.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
        *by_name.entry(name).or_default() += t / 100.0;
    }
    let mut v: Vec<_> = by_name.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: minutes of CPU on a shared machine"]
async fn pacer_streams_send_lateness() {
    let streams = env("VOICE_STREAMS", 5000) as usize;
    let threads = env("VOICE_PACERS", 1) as usize;
    let rt = std::env::var("VOICE_RT").ok().and_then(|v| v.parse().ok());
    let secs = env("VOICE_SECS", 10);
    let pacers: Vec<PacerThread> = (0..threads)
        .map(|i| PacerThread::spawn_with_priority(&format!("rtp-stress-{i}"), rt).unwrap())
        .collect();
    // Sinks nobody reads: the kernel drops what overflows, so only the sender is measured.
    let sinks: Vec<UdpSocket> = (0..4)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let prompt = bytes::Bytes::from(vec![0xd5; 8000 * (secs as usize + 5)]);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    // Ports from a configured range, as in production (autobinding 10,000 sockets to port 0
    // gets slow in the kernel and is not what the link does).
    let ports = RtpPorts::new("127.0.0.1".parse().unwrap(), 20000..=39999);
    let mut leases = Vec::new();
    for i in 0..streams {
        let (pair, lease) = ports.allocate().unwrap();
        leases.push(lease);
        let media = MediaStream {
            rtp: pair.rtp,
            rtcp: pair.rtcp,
            remote: sinks[i % sinks.len()].local_addr().unwrap(),
            dtmf_pt: Some(101),
            events: tx.clone(),
        };
        pacers[i % threads].start(StreamSpec::random(prompt.clone(), 1, Codec::Pcma), media);
    }
    // Let the ramp-up settle, then measure a clean window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    pacers.iter().for_each(|p| p.lag().reset());
    let cpu0 = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let cpu = cpu_seconds() - cpu0;
    for (i, p) in pacers.iter().enumerate() {
        let lag = p.lag();
        println!(
            "pacer {i}: {} packets ({:.0}/s), lateness p50 <= {:?}, p99 <= {:?}, p99.9 <= {:?}",
            lag.packets(),
            lag.packets() as f64 / secs as f64,
            lag.quantile_upper(0.5),
            lag.quantile_upper(0.99),
            lag.quantile_upper(0.999)
        );
    }
    let total: u64 = pacers.iter().map(|p| p.lag().packets()).sum();
    println!(
        "{streams} streams on {threads} pacer thread(s): {total} packets in {secs} s, process CPU {cpu:.2} s ({:.2} µs/packet)",
        cpu * 1e6 / total as f64
    );
    assert!(
        total as f64 >= streams as f64 * 50.0 * secs as f64 * 0.9,
        "pacer fell behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: seconds of full CPU on a shared machine"]
async fn call_setup_rate() {
    let calls = env("VOICE_CALLS", 3000);
    let cps = env("VOICE_CPS", 1000);
    let (sim, _stop) = sim(SipSim::builder()
        .default(Behaviour::answer())
        .rtp_sockets(4))
    .await;
    let mut cfg = trunk(&sim);
    cfg.rtp_port_range = 20000..=29999;
    cfg.max_calls_per_second = cps as f64;
    cfg.max_concurrent_calls = 4000;
    let ds = (0..calls)
        .map(|i| dispatch(i, 77010000000 + i, 20, 1))
        .collect();
    let cpu0 = cpu_seconds();
    let t0 = tokio::time::Instant::now();
    let (link, ev, _q, shutdown) = link(cfg, ds);
    ev.until(Duration::from_secs(calls / cps.max(1) * 4 + 30), |r| {
        r.finished.lock().len() + r.retried.lock().len() == calls as usize
    })
    .await;
    let took = t0.elapsed();
    let cpu = cpu_seconds() - cpu0;
    let answered = ev
        .finished
        .lock()
        .iter()
        .filter(|(_, o)| o.state == sendbox_dispatch::FinalState::Answered)
        .count();
    println!(
        "{calls} calls at up to {cps}/s: {answered} answered in {took:?} = {:.0} calls/s; process CPU {cpu:.2} s (link + simulator) = {:.0} µs/call",
        calls as f64 / took.as_secs_f64(),
        cpu * 1e6 / calls as f64
    );
    println!("CPU by thread: {:?}", thread_cpu());
    assert_eq!(answered as u64, calls);
    shutdown.cancel();
    link.join().await;
}

/// `VOICE_CALLS` (500) answered calls with `VOICE_SECS` (5) s prompts through the link; the
/// simulator meters every packet's inter-arrival deviation from 20 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: seconds of full CPU on a shared machine"]
async fn rtp_interarrival_through_simulator() {
    let calls = env("VOICE_CALLS", 500);
    let secs = env("VOICE_SECS", 5) as usize;
    let (sim, _stop) = sim(SipSim::builder()
        .default(Behaviour::answer())
        .rtp_sockets(4))
    .await;
    let mut cfg = trunk(&sim);
    cfg.rtp_port_range = 20000..=39999;
    cfg.max_calls_per_second = 1000.0;
    cfg.max_concurrent_calls = 6000;
    cfg.pacer_threads = env("VOICE_PACERS", 1) as usize;
    cfg.rtp_realtime_priority = std::env::var("VOICE_RT").ok().and_then(|v| v.parse().ok());
    let ds = (0..calls)
        .map(|i| dispatch(i, 77010000000 + i, secs * 1000, 1))
        .collect();
    let (link, ev, _q, shutdown) = link(cfg, ds);
    ev.until(Duration::from_secs(secs as u64 * 4 + 30), |r| {
        r.finished.lock().len() == calls as usize
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = sim.stats();
    println!(
        "{calls} calls × {secs} s: {} RTP packets received, {} lost, inter-arrival deviation p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs; late >2 ms: {}, >10 ms: {}",
        s.rtp_packets,
        s.rtp_lost,
        s.interarrival.p50_us,
        s.interarrival.p99_us,
        s.interarrival.p999_us,
        s.interarrival.max_us,
        s.rtp_late_over_2ms,
        s.rtp_late_over_10ms
    );
    println!("CPU by thread: {:?}", thread_cpu());
    assert_eq!(s.rtp_lost, 0);
    shutdown.cancel();
    link.join().await;
}
