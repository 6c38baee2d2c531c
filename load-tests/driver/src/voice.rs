//! `sendbox-load voice`: upload a generated WAV prompt, start a voice campaign of N calls,
//! read the receipts back for call setups per second, and merge the SIP simulator's RTP
//! measurements (inter-arrival deviation, loss) from its stats file with the engine's own
//! send timing (per-packet send-interval deviation and slot lag, from its metrics endpoint).

use crate::common::{self, RssSampler, delta, hist, hist_json, ts_us};
use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// Arguments of `sendbox-load voice`.
#[derive(Debug, Args)]
pub struct VoiceArgs {
    /// Base URL of the engine's API.
    #[arg(long, default_value = "http://127.0.0.1:18080")]
    api: String,
    /// An account's bearer token.
    #[arg(long)]
    token: String,
    /// The admin token (for `GET /v1/admin/stats`).
    #[arg(long)]
    admin_token: Option<String>,
    /// Calls to place.
    #[arg(long, default_value_t = 5000)]
    calls: usize,
    /// Length of the generated prompt in seconds.
    #[arg(long, default_value_t = 20)]
    prompt_seconds: u32,
    /// Engine process id, for RSS samples from /proc.
    #[arg(long)]
    engine_pid: Option<u32>,
    /// The SIP simulator's `--stats-file`, read after the run when given.
    #[arg(long)]
    sip_stats: Vec<std::path::PathBuf>,
    /// Give up waiting for receipts after this many seconds.
    #[arg(long, default_value_t = 300)]
    receipt_timeout: u64,
    /// The engine's Prometheus endpoint, for its RTP send-timing gauges.
    #[arg(long, default_value = "http://127.0.0.1:19090/metrics")]
    metrics_url: String,
    /// Write the JSON results here.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

/// A 8 kHz 16-bit mono WAV of a 440 Hz tone.
fn wav(seconds: u32) -> Vec<u8> {
    let rate = 8000u32;
    let n = rate * seconds;
    let mut w = Vec::with_capacity(44 + n as usize * 2);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + n * 2).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(n * 2).to_le_bytes());
    for i in 0..n {
        let s = (f64::from(i) * 440.0 * std::f64::consts::TAU / f64::from(rate)).sin() * 12000.0;
        w.extend_from_slice(&(s as i16).to_le_bytes());
    }
    w
}

/// Run the voice load.
pub async fn run(a: VoiceArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let rss_before = a.engine_pid.map(common::rss_bytes).transpose()?;
    let r = client
        .post(format!("{}/v1/audio?name=load.wav", a.api))
        .bearer_auth(&a.token)
        .body(wav(a.prompt_seconds))
        .send()
        .await?;
    let status = r.status();
    let audio: Value = r.json().await?;
    anyhow::ensure!(status.is_success(), "POST /v1/audio: {status}: {audio}");
    let audio_id = audio["audio_id"].clone();
    let rss_prompt = a.engine_pid.map(common::rss_bytes).transpose()?;
    let recipients: Vec<String> = (0..a.calls)
        .map(|i| format!("+7{}{:07}", ["701", "705", "707"][i % 3], i / 3))
        .collect();
    let sampler = RssSampler::start(a.engine_pid);
    #[allow(clippy::disallowed_methods)] // a load tool measures real time
    let t0 = Instant::now();
    let r = client
        .post(format!("{}/v1/campaigns", a.api))
        .bearer_auth(&a.token)
        .json(&json!({"channel": "voice", "audio_id": audio_id, "recipients": recipients}))
        .send()
        .await?;
    let status = r.status();
    let camp: Value = r.json().await?;
    anyhow::ensure!(status.is_success(), "POST /v1/campaigns: {status}: {camp}");
    let api_ms = t0.elapsed().as_secs_f64() * 1000.0;
    // receipts
    let (mut cursor, mut finals) = (0i64, 0u64);
    let (mut first_inv, mut last_inv) = (i64::MAX, i64::MIN);
    let mut setup = hist();
    let mut states = serde_json::Map::new();
    let deadline = t0 + Duration::from_secs(a.receipt_timeout);
    while finals < a.calls as u64 && Instant::now() < deadline {
        let (page, next) = common::receipts_page(&client, &a.api, &a.token, cursor).await?;
        if page.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        cursor = next;
        for x in page.iter().filter(|x| x["channel"] == "voice") {
            finals += 1;
            let st = x["state"].as_str().unwrap_or("?").to_owned();
            let e = states.entry(st).or_insert(json!(0));
            *e = json!(e.as_u64().unwrap_or(0) + 1);
            if let (Some(acc), Some(inv)) = (ts_us(x, "accepted_at"), ts_us(x, "handed_off_at")) {
                first_inv = first_inv.min(inv);
                last_inv = last_inv.max(inv);
                setup.record(delta(acc, inv))?;
            }
        }
    }
    sampler.stop();
    let span = (last_inv - first_inv).max(1) as f64 / 1e6;
    let mut sims = Vec::new();
    for p in &a.sip_stats {
        // the simulator writes its file when it exits, just after its last call
        for _ in 0..300 {
            if p.exists() {
                tokio::time::sleep(Duration::from_millis(300)).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let mut v: Value =
            serde_json::from_str(&text).with_context(|| format!("{}", p.display()))?;
        // keep the summary figures only: per-call records would make the file megabytes
        if let Some(o) = v.as_object_mut() {
            o.retain(|_, x| !x.is_array());
        }
        sims.push(v);
    }
    let peak = sampler.peak();
    let engine_rtp = engine_rtp(&client, &a.metrics_url).await;
    let worst = |key: &str| {
        sims.iter()
            .filter_map(|s| s["interarrival"][key].as_u64())
            .max()
    };
    let rtp = json!({
        "engine_send_interval_deviation_p99_ms": engine_rtp["interval_deviation"]["0.99"].as_f64().map(|s| s * 1e3),
        "engine_send_lag_p99_ms": engine_rtp["lag"]["0.99"].as_f64().map(|s| s * 1e3),
        "receiver_interarrival_deviation_p99_ms_worst_sim": worst("p99_us").map(|us| us as f64 / 1e3),
        "receiver_interarrival_deviation_max_ms_worst_sim": worst("max_us").map(|us| us as f64 / 1e3),
        "packets_received": sims.iter().filter_map(|s| s["rtp_packets"].as_u64()).sum::<u64>(),
        "packets_lost": sims.iter().filter_map(|s| s["rtp_lost"].as_u64()).sum::<u64>(),
    });
    let out = json!({
        "calls": a.calls, "finals": finals, "states": states,
        "campaign_post_ms": api_ms,
        "invites_span_seconds": span,
        "setups_per_second": (setup.len() as f64 / span).round(),
        "accept_to_invite": hist_json(&setup),
        "memory": {
            "rss_before_bytes": rss_before, "rss_after_prompt_bytes": rss_prompt,
            "rss_peak_bytes": peak,
            "peak_bytes_per_call": rss_prompt.map(|p| peak.saturating_sub(p) as f64 / a.calls.max(1) as f64),
        },
        "rtp_summary": rtp,
        "engine_rtp_send_timing_seconds": engine_rtp,
        "engine_stats": common::admin_stats(&client, &a.api, a.admin_token.as_deref()).await?,
        "sip_sims": sims,
        "loadavg_end": common::loadavg(),
    });
    let text = serde_json::to_string_pretty(&out)?;
    if let Some(p) = &a.out {
        std::fs::write(p, &text).with_context(|| format!("writing {}", p.display()))?;
    }
    println!("{text}");
    Ok(())
}

/// The engine's `sendbox_voice_rtp_send_timing_seconds` gauges as `{measure: {quantile: s}}`,
/// or null when the endpoint cannot be read (the run still reports the receivers' figures).
async fn engine_rtp(client: &reqwest::Client, url: &str) -> Value {
    let text = match client.get(url).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(e) => {
            eprintln!("engine metrics at {url}: {e}");
            return Value::Null;
        }
    };
    parse_timing(&text)
}

fn parse_timing(text: &str) -> Value {
    let mut out = serde_json::Map::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("sendbox_voice_rtp_send_timing_seconds{") else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let label = |k: &str| {
            labels.split(',').find_map(|kv| {
                let (key, v) = kv.split_once('=')?;
                (key == k).then(|| v.trim_matches('"').to_owned())
            })
        };
        let (Some(m), Some(q), Ok(v)) = (
            label("measure"),
            label("quantile"),
            value.trim().parse::<f64>(),
        ) else {
            continue;
        };
        let e = out.entry(m).or_insert_with(|| json!({}));
        e[q] = json!(v);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn engine_timing_gauges_are_parsed_by_measure_and_quantile() {
        let text = "# TYPE sendbox_voice_rtp_send_timing_seconds gauge\n\
            sendbox_voice_rtp_send_timing_seconds{measure=\"lag\",quantile=\"0.99\"} 0.00025\n\
            sendbox_voice_rtp_send_timing_seconds{measure=\"interval_deviation\",quantile=\"1\"} 0.004\n\
            sendbox_voice_rtp_packets_sent_total 12\n";
        let v = super::parse_timing(text);
        assert_eq!(v["lag"]["0.99"], 0.00025);
        assert_eq!(v["interval_deviation"]["1"], 0.004);
        assert_eq!(v.as_object().unwrap().len(), 2);
    }

    use super::*;

    #[test]
    fn generated_wav_has_a_consistent_header() {
        let w = wav(2);
        assert_eq!(&w[0..4], b"RIFF");
        assert_eq!(w.len(), 44 + 2 * 8000 * 2);
        let data_len = u32::from_le_bytes([w[40], w[41], w[42], w[43]]);
        assert_eq!(data_len as usize, w.len() - 44);
    }
}
