//! Throughput against the simulator in-process: `cargo test --release -p sendbox-smpp --test
//! throughput -- --ignored --nocapture`. The simulator shares the CPU with the link.

mod common;

use common::*;
use sendbox_smsc_sim::SmscSim;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: run in release with --ignored"]
async fn three_operators_four_binds_window_256() {
    const N: u64 = 100_000;
    let mut runs = Vec::new();
    let mut sims = Vec::new();
    for op in 0..3u64 {
        let sim = SmscSim::builder().dedup(false).spawn().await.unwrap();
        let r = start(config(sim.addr(), 4, 256, 1_000_000.0), 1_000_000.0);
        until("bound", Duration::from_secs(5), || r.link.binds_up() == 4).await;
        let c = sms("throughput test message");
        for id in 0..N {
            r.queue.push(ready(op * N + id, &c)).unwrap();
        }
        runs.push(r);
        sims.push(sim);
    }
    let t0 = tokio::time::Instant::now();
    until("handoffs", Duration::from_secs(120), || {
        runs.iter()
            .all(|r| r.events.handed.lock().len() as u64 == N)
    })
    .await;
    let handoff = t0.elapsed();
    until("receipts", Duration::from_secs(120), || {
        runs.iter().all(|r| r.events.finished_count() as u64 == N)
    })
    .await;
    let all = t0.elapsed();
    let total = 3 * N;
    println!(
        "{total} SMS: handed off in {handoff:?} ({:.0}/s), all receipts in {all:?} ({:.0}/s)",
        total as f64 / handoff.as_secs_f64(),
        total as f64 / all.as_secs_f64()
    );
    for r in runs {
        r.shutdown.cancel();
        r.link.join().await;
    }
}
