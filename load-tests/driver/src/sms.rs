//! `sendbox-load sms`: post SMS batches through `POST /v1/sms`, then page `GET /v1/receipts`
//! until every accepted message has a final receipt, and report latencies from the receipts'
//! own timestamps (`accepted_at`, `handed_off_at`, `final_at`) plus the driver's API latency.

use crate::common::{self, RssSampler, delta, hist, hist_json, ts_us};
use anyhow::Context;
use clap::Args;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Arguments of `sendbox-load sms`.
#[derive(Debug, Args)]
pub struct SmsArgs {
    /// Base URL of the engine's API.
    #[arg(long, default_value = "http://127.0.0.1:18080")]
    api: String,
    /// An account's bearer token.
    #[arg(long)]
    token: String,
    /// The admin token (for `GET /v1/admin/stats`).
    #[arg(long)]
    admin_token: Option<String>,
    /// Messages to send.
    #[arg(long, default_value_t = 1_000_000)]
    total: usize,
    /// Messages per request (at most the engine's `api.max_batch`).
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Open-loop target rate in messages per second (0: as fast as possible).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Seconds of load at `--rate` sent before the measured run; then the engine's latency
    /// histograms are reset (`POST /v1/admin/stats/reset`), so the percentiles describe the
    /// sustained load, not the start-up (binds' first bursts, a fresh store). Needs `--rate`
    /// and `--admin-token`; the warm-up's messages are extra to `--total`.
    #[arg(long, default_value_t = 0)]
    warmup_seconds: u64,
    /// Engine process id, for RSS samples from /proc.
    #[arg(long)]
    engine_pid: Option<u32>,
    /// A process sharing the machine with the engine (an SMSC simulator; repeatable): their
    /// CPU over the measured span is reported with the driver's own (`other_cpu`), so a run
    /// shows where every CPU second went.
    #[arg(long = "peer-pid")]
    peer_pids: Vec<u32>,
    /// Don't wait for receipts: everything stays queued (a closed window); measure memory
    /// per queued dispatch instead.
    #[arg(long)]
    queued: bool,
    /// Give up waiting for receipts after this many seconds.
    #[arg(long, default_value_t = 300)]
    receipt_timeout: u64,
    /// Write the JSON results here.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Free-form label stored in the results.
    #[arg(long, default_value = "")]
    label: String,
}

/// The i-th recipient: unique numbers spread round-robin over the three operators' codes.
fn number(i: usize) -> String {
    const CODES: [&str; 3] = ["701", "705", "707"];
    format!("+7{}{:07}", CODES[i % 3], i / 3 % 10_000_000)
}

/// The JSON body of one `POST /v1/sms` batch, written directly: the driver shares the CPUs
/// with the engine it measures, and building a `serde_json::Value` per message made its CPU
/// while posting 3.5 s per million messages, against 1.7-1.9 s written this way. Numbers and
/// texts need no escaping.
fn body(from: usize, n: usize) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(16 + n * 64);
    out.extend_from_slice(br#"{"messages":["#);
    for i in from..from + n {
        if i > from {
            out.push(b',');
        }
        // writing to a Vec cannot fail
        write!(
            out,
            r#"{{"to":"{}","text":"Load test {i}","sender":"LOAD"}}"#,
            number(i)
        )
        .expect("write to a Vec");
    }
    out.extend_from_slice(b"]}");
    out
}

/// What posting produced.
struct Posted {
    api: Histogram<u64>,
    accepted: u64,
    rejected: u64,
    refused: u64,
    retries_429: u64,
}

impl Posted {
    fn empty() -> Self {
        Posted {
            api: hist(),
            accepted: 0,
            rejected: 0,
            refused: 0,
            retries_429: 0,
        }
    }
}

/// Posts messages `first..first + total` (their numbers and texts follow the index).
async fn post_all(
    a: &SmsArgs,
    client: &reqwest::Client,
    first: usize,
    total: usize,
) -> anyhow::Result<Posted> {
    let batches = total.div_ceil(a.batch);
    let next = Arc::new(AtomicUsize::new(0));
    #[allow(clippy::disallowed_methods)] // a load tool measures real time
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.concurrency.max(1) {
        let (next, client, url, tok) = (
            next.clone(),
            client.clone(),
            format!("{}/v1/sms", a.api),
            a.token.clone(),
        );
        let (batch, rate) = (a.batch, a.rate);
        tasks.push(tokio::spawn(async move {
            let mut p = Posted::empty();
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    return anyhow::Ok(p);
                }
                let from = b * batch;
                let n = batch.min(total - from);
                if rate > 0 {
                    let due = Duration::from_secs_f64(from as f64 / rate as f64);
                    tokio::time::sleep_until(start + due).await;
                }
                let body = body(first + from, n);
                loop {
                    #[allow(clippy::disallowed_methods)] // real-time latency
                    let t0 = Instant::now();
                    let r = client
                        .post(&url)
                        .bearer_auth(&tok)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await?;
                    let status = r.status();
                    if status.as_u16() == 429 {
                        p.retries_429 += 1;
                        let secs: f64 = r
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(1.0);
                        tokio::time::sleep(Duration::from_secs_f64(secs.max(0.05))).await;
                        continue;
                    }
                    let v: Value = r.json().await.context("POST /v1/sms answer")?;
                    let us = t0.elapsed().as_micros() as u64;
                    p.api.record(us.max(1))?;
                    if !status.is_success() {
                        anyhow::bail!("POST /v1/sms: {status}: {v}");
                    }
                    let count = |k: &str| v[k].as_u64().unwrap_or(0);
                    p.accepted += count("queued") + count("deferred");
                    p.refused += count("refused");
                    p.rejected += n as u64
                        - (count("queued") + count("deferred") + count("refused")).min(n as u64);
                    break;
                }
            }
        }));
    }
    let mut all = Posted::empty();
    for t in tasks {
        let p = t.await??;
        all.api.add(&p.api)?;
        all.accepted += p.accepted;
        all.rejected += p.rejected;
        all.refused += p.refused;
        all.retries_429 += p.retries_429;
    }
    Ok(all)
}

/// Receipt-derived figures.
struct Receipts {
    finals: u64,
    accept_to_handoff: Histogram<u64>,
    handoff_to_receipt: Histogram<u64>,
    accept_to_receipt: Histogram<u64>,
    first_accept: i64,
    last_final: i64,
    states: serde_json::Map<String, Value>,
}

async fn read_receipts(
    a: &SmsArgs,
    client: &reqwest::Client,
    want: u64,
) -> anyhow::Result<Receipts> {
    let mut r = Receipts {
        finals: 0,
        accept_to_handoff: hist(),
        handoff_to_receipt: hist(),
        accept_to_receipt: hist(),
        first_accept: i64::MAX,
        last_final: i64::MIN,
        states: Default::default(),
    };
    let mut cursor = 0;
    #[allow(clippy::disallowed_methods)] // a load tool measures real time
    let deadline = Instant::now() + Duration::from_secs(a.receipt_timeout);
    while r.finals < want && Instant::now() < deadline {
        let (page, next) = common::receipts_page(client, &a.api, &a.token, cursor).await?;
        if page.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        cursor = next;
        for x in &page {
            if x["channel"] != "sms" {
                continue;
            }
            r.finals += 1;
            let state = x["state"].as_str().unwrap_or("?").to_owned();
            let e = r.states.entry(state).or_insert(json!(0));
            *e = json!(e.as_u64().unwrap_or(0) + 1);
            let (Some(acc), Some(fin)) = (ts_us(x, "accepted_at"), ts_us(x, "final_at")) else {
                continue;
            };
            r.first_accept = r.first_accept.min(acc);
            r.last_final = r.last_final.max(fin);
            r.accept_to_receipt.record(delta(acc, fin))?;
            if let Some(h) = ts_us(x, "handed_off_at") {
                r.accept_to_handoff.record(delta(acc, h))?;
                r.handoff_to_receipt.record(delta(h, fin))?;
            }
        }
    }
    Ok(r)
}

/// CPU seconds used so far by `peers` together, and by this driver.
fn other_cpu(peers: &[u32]) -> anyhow::Result<(f64, f64)> {
    let mut sum = 0.0;
    for &pid in peers {
        sum += common::cpu_use(pid)?.seconds;
    }
    Ok((sum, common::cpu_use(std::process::id())?.seconds))
}

/// The warm-up (`--warmup-seconds`), then the latency histograms reset.
async fn warm_up(a: &SmsArgs, client: &reqwest::Client) -> anyhow::Result<Posted> {
    if a.warmup_seconds == 0 {
        return Ok(Posted::empty());
    }
    anyhow::ensure!(a.rate > 0, "--warmup-seconds needs --rate");
    let tok = a
        .admin_token
        .as_deref()
        .context("--warmup-seconds needs --admin-token (to reset the engine's histograms)")?;
    let n = usize::try_from(a.rate.saturating_mul(a.warmup_seconds))?;
    // Numbered after the measured run's messages: every recipient stays unique.
    let warm = post_all(a, client, a.total, n).await?;
    client
        .post(format!("{}/v1/admin/stats/reset", a.api))
        .bearer_auth(tok)
        .send()
        .await?
        .error_for_status()
        .context("POST /v1/admin/stats/reset")?;
    Ok(warm)
}

/// Run the SMS load.
pub async fn run(a: SmsArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency.max(1))
        .build()?;
    let rss_before = a.engine_pid.map(common::rss_bytes).transpose()?;
    let sampler = RssSampler::start(a.engine_pid);
    let load_start = common::loadavg();
    let warmup = warm_up(&a, &client).await?;
    let cpu_before = a.engine_pid.map(common::cpu_use).transpose()?;
    let others_before = other_cpu(&a.peer_pids)?;
    let machine_before = common::machine_cpu()?;
    #[allow(clippy::disallowed_methods)] // a load tool measures real time
    let t0 = Instant::now();
    let posted = post_all(&a, &client, 0, a.total).await?;
    let post_secs = t0.elapsed().as_secs_f64();
    let mut out = json!({
        "label": a.label,
        "total": a.total, "batch": a.batch, "concurrency": a.concurrency, "target_rate": a.rate,
        "accepted": posted.accepted, "rejected": posted.rejected, "refused": posted.refused, "retries_429": posted.retries_429,
        "post_seconds": post_secs,
        "ingest_per_second": (posted.accepted as f64 / post_secs).round(),
        "api_submit_to_response": hist_json(&posted.api),
        "loadavg_start": load_start,
        "warmup": json!({"seconds": a.warmup_seconds, "accepted": warmup.accepted}),
    });
    if a.queued {
        // let the engine settle (store writes, deferral) before reading RSS
        tokio::time::sleep(Duration::from_secs(3)).await;
        let stats = common::admin_stats(&client, &a.api, a.admin_token.as_deref()).await?;
        let queued = stats["deferred_now"].as_u64().unwrap_or(0)
            + stats["operators"].as_array().map_or(0, |o| {
                o.iter().map(|x| x["queued"].as_u64().unwrap_or(0)).sum()
            });
        if let (Some(pid), Some(before)) = (a.engine_pid, rss_before) {
            let after = common::rss_bytes(pid)?;
            out["memory"] = json!({
                "rss_before_bytes": before, "rss_after_bytes": after, "rss_peak_bytes": sampler.peak(),
                "queued_dispatches": queued,
                "bytes_per_queued_dispatch": (after.saturating_sub(before)) as f64 / queued.max(1) as f64,
                "peak_bytes_per_queued_dispatch": (sampler.peak().saturating_sub(before)) as f64 / queued.max(1) as f64,
            });
        }
        out["engine_stats"] = stats;
    } else {
        let expected = warmup.accepted + warmup.refused + posted.accepted + posted.refused;
        // The engine's CPU from the measured run's start until its last receipt is durable,
        // read before paging the receipts out (which costs the engine CPU too).
        let timeout = Duration::from_secs(a.receipt_timeout);
        let settled = common::settled(&client, &a.api, a.admin_token.as_deref(), expected, timeout);
        let settled = settled.await?;
        let settled_secs = t0.elapsed().as_secs_f64();
        if settled {
            // From the first POST until the last receipt was durable: the strictest rate.
            out["settled"] = json!({
                "seconds": settled_secs,
                "dispatches_per_second": (posted.accepted as f64 / settled_secs).round(),
            });
        }
        let mut engine_seconds = 0.0;
        if let (true, Some(pid), Some(before)) = (settled, a.engine_pid, cpu_before) {
            let after = common::cpu_use(pid)?;
            engine_seconds = after.seconds - before.seconds;
            let n = posted.accepted.max(1) as f64;
            out["engine_cpu"] = json!({
                "seconds": engine_seconds,
                "us_per_dispatch": (engine_seconds * 1e6 / n * 100.0).round() / 100.0,
                "minor_faults": after.minor_faults - before.minor_faults,
                "minor_faults_per_1000_dispatches": ((after.minor_faults - before.minor_faults) as f64 * 1000.0 / n).round(),
            });
        }
        if settled {
            let (peers, driver) = other_cpu(&a.peer_pids)?;
            let per = |s: f64| (s * 1e6 / posted.accepted.max(1) as f64 * 100.0).round() / 100.0;
            out["other_cpu"] = json!({
                "peers": a.peer_pids.len(),
                "peers_us_per_dispatch": per(peers - others_before.0),
                "driver_us_per_dispatch": per(driver - others_before.1),
            });
            // The machine over the same span: how busy it was, and how much of that was work
            // outside the engine, the simulators and this driver (a build, another test).
            let measured = engine_seconds + (peers - others_before.0) + (driver - others_before.1);
            out["machine_cpu"] = common::machine_cpu()?.since_json(&machine_before, measured);
        }
        let r = read_receipts(&a, &client, expected).await?;
        let span = (r.last_final - r.first_accept).max(1) as f64 / 1e6;
        out["receipts"] = json!({
            "finals": r.finals, "states": r.states,
            "ingest_to_last_receipt_seconds": span,
            "throughput_per_second": (r.finals as f64 / span).round(),
            "api_accept_to_handoff": hist_json(&r.accept_to_handoff),
            "handoff_to_receipt": hist_json(&r.handoff_to_receipt),
            "accept_to_receipt": hist_json(&r.accept_to_receipt),
        });
        let stats = common::admin_stats(&client, &a.api, a.admin_token.as_deref()).await?;
        out["engine_latency_ms"] = stats["latency_ms"].clone();
        // SMPP submit_sm -> submit_sm_resp, exact percentiles kept by the engine's binds.
        out["smpp_submit_to_response_ms"] = stats["latency_ms"]["smpp_submit_to_response"].clone();
        if let Some(pid) = a.engine_pid {
            out["memory"] = json!({
                "rss_before_bytes": rss_before, "rss_peak_bytes": sampler.peak(),
                "rss_after_bytes": common::rss_bytes(pid)?,
            });
        }
    }
    sampler.stop();
    out["loadavg_end"] = json!(common::loadavg());
    let text = serde_json::to_string_pretty(&out)?;
    if let Some(p) = &a.out {
        std::fs::write(p, &text).with_context(|| format!("writing {}", p.display()))?;
    }
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_spread_over_operators() {
        let n: std::collections::HashSet<String> = (0..30_000).map(number).collect();
        assert_eq!(n.len(), 30_000);
        assert!(number(0).starts_with("+7701") && number(1).starts_with("+7705"));
        assert_eq!(number(2).len(), 12);
    }

    #[test]
    fn batch_body_holds_the_requested_messages() {
        let v: Value = serde_json::from_slice(&body(10, 3)).unwrap();
        let m = v["messages"].as_array().unwrap();
        assert_eq!(m.len(), 3);
        for (k, m) in m.iter().enumerate() {
            assert_eq!(
                *m,
                json!({"to": number(10 + k), "text": format!("Load test {}", 10 + k), "sender": "LOAD"})
            );
        }
        let one: Value = serde_json::from_slice(&body(0, 1)).unwrap();
        assert_eq!(one["messages"].as_array().unwrap().len(), 1);
    }
}
