//! The small top-level sections: `[api]`, `[metrics]`, `[blacklist]`, `[queues]`, `[voice]`
//! (with `[voice.audio]`) and `[logging]`. Each has defaults, so all of them may be omitted.

use crate::TokenHash;
use serde::Deserialize;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// `[api]`: the ingest HTTP API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Listen address (default `127.0.0.1:8080`).
    #[serde(default = "api_listen")]
    pub listen: SocketAddr,
    /// SHA-256 of the operations team's token (64 hex digits); absent disables admin calls.
    pub admin_token_sha256: Option<TokenHash>,
    /// Most recipients in one submit request (default 10000, 1..=1000000).
    #[serde(default = "max_batch")]
    pub max_batch: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: api_listen(),
            admin_token_sha256: None,
            max_batch: max_batch(),
        }
    }
}

/// `[metrics]`: the Prometheus scrape endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Listen address (default `127.0.0.1:9090`).
    #[serde(default = "metrics_listen")]
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: metrics_listen(),
        }
    }
}

/// `[blacklist]`: numbers nobody may reach.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlacklistConfig {
    /// Files of numbers, one per line (resolved against the config directory; must exist).
    #[serde(default)]
    pub files: Vec<PathBuf>,
}

/// `[queues]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuesConfig {
    /// Dispatches waiting per operator before submits are refused (default 1000000).
    #[serde(default = "capacity")]
    pub capacity_per_operator: usize,
}

impl Default for QueuesConfig {
    fn default() -> Self {
        QueuesConfig {
            capacity_per_operator: capacity(),
        }
    }
}

/// `[voice]`: robocall campaigns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceConfig {
    /// A call counts as "listened" after this many seconds of prompt (default 3).
    #[serde(default = "three")]
    pub min_prompt_seconds: u32,
    /// Wait between attempts to an unanswered number (default `30m`).
    #[serde(default = "thirty_minutes", with = "crate::duration")]
    pub retry_interval: Duration,
    /// Attempts per number, the first included (default 3, 1..=10).
    #[serde(default = "three")]
    pub max_attempts: u32,
    /// Uploaded prompt limits and processing.
    #[serde(default)]
    pub audio: AudioConfig,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            min_prompt_seconds: three(),
            retry_interval: thirty_minutes(),
            max_attempts: three(),
            audio: AudioConfig::default(),
        }
    }
}

/// `[voice.audio]`: uploaded prompts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioConfig {
    /// Largest upload in bytes (default 20 MiB).
    #[serde(default = "max_bytes")]
    pub max_bytes: u64,
    /// Longest prompt after decoding (default `1h`).
    #[serde(default = "one_hour", with = "crate::duration")]
    pub max_duration: Duration,
    /// Peak level the prompt is normalised to, dBFS (default -3.0, -60.0..=0.0).
    #[serde(default = "normalize_dbfs")]
    pub normalize_dbfs: f64,
    /// Cut leading and trailing silence (default true).
    #[serde(default = "yes")]
    pub trim_silence: bool,
}

impl Default for AudioConfig {
    fn default() -> Self {
        AudioConfig {
            max_bytes: max_bytes(),
            max_duration: one_hour(),
            normalize_dbfs: normalize_dbfs(),
            trim_silence: true,
        }
    }
}

/// `[logging]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    /// `"human"` (default) or `"json"`.
    #[serde(default)]
    pub format: LogFormat,
    /// Log phone numbers in clear (default false: they are masked).
    #[serde(default)]
    pub show_numbers: bool,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The lower-case config name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        }
    }
}

fn api_listen() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 8080))
}
fn metrics_listen() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 9090))
}
fn max_batch() -> u32 {
    10_000
}
fn capacity() -> usize {
    1_000_000
}
fn three() -> u32 {
    3
}
fn thirty_minutes() -> Duration {
    Duration::from_secs(30 * 60)
}
fn max_bytes() -> u64 {
    20 * 1024 * 1024
}
fn one_hour() -> Duration {
    Duration::from_secs(3600)
}
fn normalize_dbfs() -> f64 {
    -3.0
}
fn yes() -> bool {
    true
}
