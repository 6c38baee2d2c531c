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

/// CPU time (user + system) and minor page faults of a process so far, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// Seconds on CPU, user and system, every thread.
    pub seconds: f64,
    /// Minor page faults (a fresh page zeroed or mapped by the kernel).
    pub minor_faults: u64,
}

/// Read `pid`'s [`CpuUse`].
pub fn cpu_use(pid: u32) -> anyhow::Result<CpuUse> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_stat(&text).with_context(|| format!("unexpected {path}: {text:?}"))
}

/// Clock ticks per second of `/proc` times: USER_HZ, fixed at 100 by the Linux ABI on every
/// architecture we run on (whatever the kernel's internal HZ).
const USER_HZ: f64 = 100.0;

fn parse_stat(text: &str) -> Option<CpuUse> {
    // Fields after the parenthesised command name (which may hold spaces): state is field 3,
    // minflt 10, utime 14, stime 15 (proc(5)), in clock ticks.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i - 3)?.parse::<u64>().ok();
    Some(CpuUse {
        seconds: (n(14)? + n(15)?) as f64 / USER_HZ,
        minor_faults: n(10)?,
    })
}

/// The whole machine's CPU time so far, by kind, in clock ticks (the `cpu` line of
/// `/proc/stat`, every CPU together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineCpu {
    /// user, nice, system, irq and softirq (guest time is inside user).
    pub busy: u64,
    /// idle.
    pub idle: u64,
    /// iowait.
    pub iowait: u64,
    /// steal: time the hypervisor gave to other guests (0 where it is not reported).
    pub steal: u64,
    /// CPUs (the `cpuN` lines).
    pub cpus: u32,
}

/// Read the machine's [`MachineCpu`].
pub fn machine_cpu() -> anyhow::Result<MachineCpu> {
    let text = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    parse_proc_stat(&text).with_context(|| "unexpected /proc/stat".to_string())
}

fn parse_proc_stat(text: &str) -> Option<MachineCpu> {
    let mut lines = text.lines();
    let first = lines.next()?.strip_prefix("cpu ")?;
    let f: Vec<u64> = first
        .split_whitespace()
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let at = |i: usize| f.get(i).copied();
    let cpus = lines
        .take_while(|l| l.starts_with("cpu"))
        .filter(|l| l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Some(MachineCpu {
        busy: at(0)? + at(1)? + at(2)? + at(5)? + at(6)?,
        idle: at(3)?,
        iowait: at(4)?,
        steal: at(7).unwrap_or(0),
        cpus: u32::try_from(cpus).ok()?,
    })
}

impl MachineCpu {
    /// What the machine did between `before` and now (`self`), as fractions of all its CPU
    /// time, with the busy seconds that the processes measured (`measured_seconds`: engine,
    /// simulators, driver) do not account for: other work on the machine during the run.
    pub fn since_json(&self, before: &MachineCpu, measured_seconds: f64) -> Value {
        let d = |a: u64, b: u64| a.saturating_sub(b) as f64;
        let (busy, idle, iowait, steal) = (
            d(self.busy, before.busy),
            d(self.idle, before.idle),
            d(self.iowait, before.iowait),
            d(self.steal, before.steal),
        );
        let total = (busy + idle + iowait + steal).max(1.0);
        let frac = |x: f64| (x / total * 1000.0).round() / 1000.0;
        let busy_seconds = busy / USER_HZ;
        json!({
            "cpus": self.cpus,
            "busy_fraction": frac(busy),
            "idle_fraction": frac(idle),
            "iowait_fraction": frac(iowait),
            "steal_fraction": frac(steal),
            "busy_seconds": (busy_seconds * 100.0).round() / 100.0,
            "other_processes_seconds": ((busy_seconds - measured_seconds) * 100.0).round() / 100.0,
        })
    }
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

/// Wait (up to `timeout`) until the engine's links report `want` final outcomes and its store
/// backlog is empty: every receipt durable. False when the time ran out.
pub async fn settled(
    client: &reqwest::Client,
    api: &str,
    admin: Option<&str>,
    want: u64,
    timeout: Duration,
) -> anyhow::Result<bool> {
    if admin.is_none() {
        return Ok(false);
    }
    #[allow(clippy::disallowed_methods)] // a load tool measures real time
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let s = admin_stats(client, api, admin).await?;
        let finals: u64 = s["operators"].as_array().map_or(0, |ops| {
            ops.iter()
                .filter_map(|o| o["final"].as_object())
                .flat_map(|f| f.values().filter_map(Value::as_u64))
                .sum()
        });
        if finals >= want && s["store_backlog"].as_u64() == Some(0) {
            return Ok(true);
        }
        #[allow(clippy::disallowed_methods)] // a load tool measures real time
        if std::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    fn machine_cpu_is_read_from_the_first_line_of_proc_stat() {
        let text = "cpu  464816 7 65503 349271 7763 11 7318 178 0 0\n\
                    cpu0 232000 3 32000 174000 3800 5 3600 90 0 0\n\
                    cpu1 232816 4 33503 175271 3963 6 3718 88 0 0\n\
                    intr 12345 0 0\n";
        let m = parse_proc_stat(text).unwrap();
        assert_eq!(
            m,
            MachineCpu {
                busy: 464816 + 7 + 65503 + 11 + 7318,
                idle: 349271,
                iowait: 7763,
                steal: 178,
                cpus: 2,
            }
        );
        assert_eq!(parse_proc_stat("intr 1 2\n"), None);
        let later = MachineCpu {
            busy: m.busy + 180,
            idle: m.idle + 10,
            iowait: m.iowait + 5,
            steal: m.steal + 5,
            ..m
        };
        let j = later.since_json(&m, 1.5);
        assert_eq!(j["busy_fraction"], 0.9);
        assert_eq!(j["steal_fraction"], 0.025);
        assert_eq!(j["busy_seconds"], 1.8);
        assert_eq!(j["other_processes_seconds"], 0.3);
    }

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
    fn stat_fields_are_read_after_the_command_name() {
        // A command name with spaces and a parenthesis must not shift the fields.
        let line = "42 (a b) c) S 1 2 3 4 5 6 777 8 9 10 300 200 0 0 20 0 1 0";
        let u = parse_stat(line).unwrap();
        assert_eq!(u.minor_faults, 777);
        assert!((u.seconds - 5.0).abs() < 1e-9);
        assert!(parse_stat("42 (x) S 1").is_none());
    }

    #[test]
    fn own_cpu_use_is_readable() {
        // A running process has faulted its stack and heap in.
        assert!(cpu_use(std::process::id()).unwrap().minor_faults > 0);
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
