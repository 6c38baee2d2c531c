//! Shared pieces: histograms as JSON, engine RSS sampling, receipt paging, admin stats.

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A histogram of microseconds (1 µs .. 1 h, 3 significant digits).
pub fn hist() -> Histogram<u64> {
    // 1..3.6e9 µs with 3 digits is a valid range: new_with_bounds cannot fail here.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// Percentiles of a µs histogram, in milliseconds.
pub fn hist_json(h: &Histogram<u64>) -> Value {
    let ms = |v: u64| (v as f64 / 1000.0 * 1000.0).round() / 1000.0;
    json!({
        "count": h.len(),
        "p50_ms": ms(h.value_at_quantile(0.50)),
        "p90_ms": ms(h.value_at_quantile(0.90)),
        "p99_ms": ms(h.value_at_quantile(0.99)),
        "p999_ms": ms(h.value_at_quantile(0.999)),
        "max_ms": ms(h.max()),
    })
}

/// Resident set size of a process in bytes, from `/proc/<pid>/status` (`VmRSS`).
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = text
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .with_context(|| format!("no VmRSS in {path}"))?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .with_context(|| format!("bad VmRSS line {line:?}"))?
        .parse()
        .with_context(|| format!("bad VmRSS line {line:?}"))?;
    Ok(kb * 1024)
}

/// Samples the engine's RSS every 100 ms in the background, keeping the peak.
#[derive(Debug, Clone)]
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl RssSampler {
    /// Start sampling `pid` (no-op sampler when `None`).
    pub fn start(pid: Option<u32>) -> Self {
        let s = Self {
            peak: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        if let Some(pid) = pid {
            let (peak, stop) = (s.peak.clone(), s.stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(r) = rss_bytes(pid) {
                        peak.fetch_max(r, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        }
        s
    }

    /// Highest RSS seen so far.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Stop sampling.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `GET /v1/admin/stats` with the admin token (JSON null when no token is given).
pub async fn admin_stats(
    client: &reqwest::Client,
    api: &str,
    admin: Option<&str>,
) -> anyhow::Result<Value> {
    let Some(tok) = admin else {
        return Ok(Value::Null);
    };
    let r = client
        .get(format!("{api}/v1/admin/stats"))
        .bearer_auth(tok)
        .send()
        .await?
        .error_for_status()?;
    Ok(r.json().await?)
}

/// One page of `GET /v1/receipts`: the receipts and the next cursor.
pub async fn receipts_page(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    after: i64,
) -> anyhow::Result<(Vec<Value>, i64)> {
    let r = client
        .get(format!("{api}/v1/receipts?after={after}&limit=10000"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let mut v: Value = r.json().await?;
    let next = v["next_cursor"]
        .as_i64()
        .context("receipts answer without next_cursor")?;
    let receipts = match v["receipts"].take() {
        Value::Array(a) => a,
        other => anyhow::bail!("receipts answer: expected an array, got {other}"),
    };
    Ok((receipts, next))
}

/// A receipt timestamp field as microseconds since the epoch (`None` when absent or null).
pub fn ts_us(r: &Value, field: &str) -> Option<i64> {
    let s = r.get(field)?.as_str()?;
    let t: jiff::Timestamp = s.parse().ok()?;
    Some(t.as_microsecond())
}

/// Difference `b - a` in µs, clamped to at least 1 (the histogram's lowest value).
pub fn delta(a: i64, b: i64) -> u64 {
    u64::try_from(b - a).unwrap_or(0).max(1)
}

/// Local machine's load average (1, 5, 15 min) from `/proc/loadavg`.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_timestamps_parse_to_microseconds() {
        let r = json!({"a": "2026-11-25T13:00:00.000250Z", "b": null});
        let a = ts_us(&r, "a").unwrap();
        assert_eq!(a % 1_000_000, 250);
        assert_eq!(ts_us(&r, "b"), None);
        assert_eq!(ts_us(&r, "missing"), None);
    }

    #[test]
    fn delta_clamps_negative_to_one() {
        assert_eq!(delta(10, 5), 1);
        assert_eq!(delta(10, 1010), 1000);
    }

    #[test]
    fn own_rss_is_readable_and_nonzero() {
        assert!(rss_bytes(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn percentiles_are_reported_in_milliseconds() {
        let mut h = hist();
        for us in 1..=1000 {
            h.record(us).unwrap();
        }
        let j = hist_json(&h);
        assert_eq!(j["count"], 1000);
        assert!((j["p50_ms"].as_f64().unwrap() - 0.5).abs() < 0.01);
    }
}
