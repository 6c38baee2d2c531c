//! Command-line arguments for `sendbox sim smsc`, embeddable as a clap subcommand.
//!
//! ```
//! use clap::Parser;
//! use sendbox_smsc_sim::SimArgs;
//! let args = SimArgs::try_parse_from([
//!     "smsc", "--listen", "127.0.0.1:2775", "--system-id", "sys", "--password", "pw",
//!     "--receipt-delay", "200ms", "--status-mix", "DELIVRD=90,UNDELIV=10", "--hex-ids",
//! ]).unwrap();
//! let builder = args.to_builder().unwrap();
//! # let _ = builder;
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use tokio::net::TcpListener;
use tracing::info;

use crate::config::{Malformed, ReceiptFormat, SimBuilder, SmppVersion, Stat};
use crate::server::SmscSim;

/// `sendbox sim smsc` options.
#[derive(Debug, Clone, Parser)]
#[command(name = "smsc", about = "Run an SMPP SMSC simulator")]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:2775")]
    pub listen: SocketAddr,
    /// Required bind system_id (any when unset).
    #[arg(long, requires = "password")]
    pub system_id: Option<String>,
    /// Required bind password.
    #[arg(long, requires = "system_id")]
    pub password: Option<String>,
    /// Reject every bind with this command_status (decimal or 0x-hex, e.g. 0x0D).
    #[arg(long, value_parser = parse_status)]
    pub reject_binds: Option<u32>,
    /// Delay before each submit_sm_resp, e.g. 5ms.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0ms")]
    pub latency: Duration,
    /// Delay from submit_sm_resp to receipt, e.g. 2s.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0ms")]
    pub receipt_delay: Duration,
    /// Weighted receipt states, e.g. DELIVRD=90,UNDELIV=5,EXPIRED=3,REJECTD=2.
    #[arg(long, value_parser = parse_mix, default_value = "DELIVRD=1")]
    pub status_mix: StatusMix,
    /// Send each receipt before its submit_sm_resp.
    #[arg(long)]
    pub receipt_before_response: bool,
    /// Answer every N-th submit_sm with ESME_RTHROTTLED.
    #[arg(long)]
    pub throttle_every: Option<u64>,
    /// Answer ESME_RTHROTTLED above this rate per bind (msg/s).
    #[arg(long)]
    pub throttle_above_tps: Option<f64>,
    /// Close a connection at its N-th submit_sm (left unanswered).
    #[arg(long)]
    pub drop_every: Option<u64>,
    /// Hex message ids (decimal otherwise).
    #[arg(long)]
    pub hex_ids: bool,
    /// Write the receipt text's id in the other base than submit_sm_resp.
    #[arg(long)]
    pub receipt_text_id_mismatch: bool,
    /// Receipt layout.
    #[arg(long, value_enum, default_value = "both")]
    pub receipt_format: ReceiptFormatArg,
    /// Announced SMPP version.
    #[arg(long = "smpp-version", value_enum, default_value = "3.4")]
    pub smpp_version: VersionArg,
    /// UTC offset in hours of the receipt dates.
    #[arg(long, default_value_t = 5, allow_hyphen_values = true)]
    pub receipt_utc_offset: i8,
    /// Random seed for the status mix.
    #[arg(long, default_value_t = 0x5EED)]
    pub seed: u64,
    /// Every N-th submit_sm_resp carries its message_id without the NUL terminator.
    #[arg(long)]
    pub no_nul_every: Option<u64>,
    /// Send an undecodable deliver_sm after every N-th submit_sm_resp.
    #[arg(long)]
    pub garbage_every: Option<u64>,
    /// Do not track duplicates (saves memory on long runs).
    #[arg(long)]
    pub no_dedup: bool,
    /// Send enquire_link to each client at this interval, e.g. 30s.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub enquire_link_interval: Option<Duration>,
    /// At most this many unacknowledged deliver_sm per bind.
    #[arg(long)]
    pub deliver_window: Option<usize>,
    /// How often to log the counters.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub stats_interval: Duration,
}

/// A parsed `--status-mix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMix(pub Vec<(Stat, u32)>);

/// `--receipt-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReceiptFormatArg {
    /// `id:… stat:…` text only.
    Text,
    /// receipted_message_id + message_state TLVs only.
    Tlv,
    /// Both.
    Both,
}

/// `--smpp-version` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VersionArg {
    /// SMPP 3.4.
    #[value(name = "3.4")]
    V34,
    /// SMPP 5.0.
    #[value(name = "5.0")]
    V50,
}

/// Errors from [`run_cli`] and [`SimArgs::to_builder`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimCliError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for the shutdown signal: {0}")]
    Signal(std::io::Error),
}

fn parse_status(s: &str) -> Result<u32, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("bad command_status {s:?}: {e}"))
}

fn parse_mix(s: &str) -> Result<StatusMix, String> {
    let mut mix = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, weight) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?}: expected STAT=weight"))?;
        let stat = match name.trim().to_ascii_uppercase().as_str() {
            "DELIVRD" => Stat::Delivrd,
            "UNDELIV" => Stat::Undeliv,
            "EXPIRED" => Stat::Expired,
            "REJECTD" => Stat::Rejectd,
            other => {
                return Err(format!(
                    "unknown stat {other:?} (DELIVRD, UNDELIV, EXPIRED, REJECTD)"
                ));
            }
        };
        let weight = weight
            .trim()
            .parse()
            .map_err(|e| format!("{item:?}: bad weight: {e}"))?;
        mix.push((stat, weight));
    }
    Ok(StatusMix(mix))
}

impl SimArgs {
    /// The simulator configuration these arguments describe.
    pub fn to_builder(&self) -> Result<SimBuilder, SimCliError> {
        let mut b = SmscSim::builder()
            .latency(self.latency)
            .receipt_delay(self.receipt_delay)
            .status_mix(&self.status_mix.0)
            .receipt_before_response(self.receipt_before_response)
            .hex_ids(self.hex_ids)
            .receipt_text_id_mismatch(self.receipt_text_id_mismatch)
            .receipt_format(match self.receipt_format {
                ReceiptFormatArg::Text => ReceiptFormat::TextOnly,
                ReceiptFormatArg::Tlv => ReceiptFormat::TlvOnly,
                ReceiptFormatArg::Both => ReceiptFormat::Both,
            })
            .version(match self.smpp_version {
                VersionArg::V34 => SmppVersion::V34,
                VersionArg::V50 => SmppVersion::V50,
            })
            .receipt_utc_offset_hours(self.receipt_utc_offset)
            .seed(self.seed)
            .dedup(!self.no_dedup);
        if let (Some(s), Some(p)) = (&self.system_id, &self.password) {
            b = b.credentials(s, p);
        }
        if let Some(s) = self.reject_binds {
            b = b.reject_binds(s);
        }
        if let Some(n) = self.throttle_every {
            b = b.throttle_every(n);
        }
        if let Some(t) = self.throttle_above_tps {
            b = b.throttle_above_tps(t);
        }
        if let Some(n) = self.drop_every {
            b = b.drop_every(n);
        }
        if let Some(every) = self.no_nul_every {
            b = b.malformed(Malformed::SubmitRespWithoutNul { every });
        }
        if let Some(d) = self.enquire_link_interval {
            b = b.enquire_link_interval(d);
        }
        if let Some(n) = self.deliver_window {
            b = b.deliver_window(n);
        }
        if let Some(every) = self.garbage_every {
            b = b.malformed(Malformed::GarbagePdu { every });
        }
        Ok(b)
    }
}

/// Runs the simulator until Ctrl-C, logging the counters every `--stats-interval`.
pub async fn run_cli(args: SimArgs) -> Result<(), SimCliError> {
    let builder = args.to_builder()?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimCliError::Bind {
            addr: args.listen,
            source,
        })?;
    let sim = builder.run(listener, std::future::pending());
    info!(addr = %sim.addr(), "SMSC simulator listening.");
    let mut tick = tokio::time::interval(args.stats_interval.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            r = &mut ctrl_c => {
                r.map_err(SimCliError::Signal)?;
                break;
            }
            _ = tick.tick() => {
                let s = sim.stats();
                info!(
                    binds = s.binds, submits = s.submits_received, accepted = s.submits_accepted,
                    unique = s.unique_messages, duplicates = s.duplicates, throttled = s.throttled,
                    receipts_sent = s.receipts_sent, receipts_acked = s.receipts_acked,
                    "SMSC simulator counters."
                );
            }
        }
    }
    info!(stats = ?sim.stats(), "SMSC simulator stopped.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mix_parses_and_rejects_unknown_words() {
        assert_eq!(
            parse_mix("DELIVRD=90, undeliv=10").unwrap(),
            StatusMix(vec![(Stat::Delivrd, 90), (Stat::Undeliv, 10)])
        );
        assert!(
            parse_mix("DELIVERED=1")
                .unwrap_err()
                .contains("unknown stat")
        );
        assert!(parse_mix("DELIVRD").is_err());
    }

    #[test]
    fn statuses_parse_in_hex_and_decimal() {
        assert_eq!(parse_status("0x0D"), Ok(13));
        assert_eq!(parse_status("14"), Ok(14));
        assert!(parse_status("0xZZ").is_err());
    }

    #[test]
    fn version_and_offsets_parse() {
        let a = SimArgs::try_parse_from([
            "smsc",
            "--smpp-version",
            "5.0",
            "--receipt-utc-offset",
            "-3",
        ])
        .unwrap();
        assert_eq!(a.smpp_version, VersionArg::V50);
        assert_eq!(a.receipt_utc_offset, -3);
    }
}
