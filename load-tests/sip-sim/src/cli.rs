//! `sendbox sim sip`: command-line arguments and the run loop around [`SipSim`].
//!
//! ```text
//! sendbox sim sip --listen 127.0.0.1:5070 --default 'answer,ring=1s' \
//!     --rule '*0486=busy' --rule '*0000=noanswer' --mix '80:answer' --mix '20:busy=603' \
//!     --user trunk --password secret --stats-file /tmp/sim.json --max-calls 1000
//! ```

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::behaviour::{Behaviour, MixEntry, Rule};
use crate::error::SimError;
use crate::sim::SipSim;
use crate::stats::SimStats;

/// Arguments of `sendbox sim sip` (embed with `#[command(flatten)]` or as a subcommand).
#[derive(Debug, Clone, clap::Parser)]
#[command(about = "SIP UAS simulator standing in for an operator trunk")]
pub struct SimArgs {
    /// UDP address to receive SIP on.
    #[arg(long, default_value = "127.0.0.1:5070")]
    pub listen: SocketAddr,
    /// Behaviour when no rule matches and no mix is given: `answer[,ring=1s][,hangup=30s][,dtmf=1@1s+2@2s]`,
    /// `busy[=486|600|603]`, `noanswer`, `reject=CODE`, `challenge=401|407[/REALM][/SHA-256]>BEHAVIOUR`.
    #[arg(long, default_value = "answer")]
    pub default: Behaviour,
    /// PATTERN=BEHAVIOUR, first match wins; PATTERN is *SUFFIX, PREFIX* or an exact number (repeatable).
    #[arg(long = "rule")]
    pub rules: Vec<Rule>,
    /// WEIGHT:BEHAVIOUR entries of a seeded random mix used when no rule matches (repeatable).
    #[arg(long = "mix")]
    pub mix: Vec<MixEntry>,
    /// Digest username expected by challenge behaviours.
    #[arg(long, default_value = "sendbox")]
    pub user: String,
    /// Digest password expected by challenge behaviours.
    #[arg(long, default_value = "sendbox")]
    pub password: String,
    /// Seed of the random mix, tags and nonces.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Shared RTP receive sockets (one thread each); use 8 for 5,000 concurrent calls.
    #[arg(long, default_value_t = 4)]
    pub rtp_sockets: usize,
    /// IP to advertise in SDP and Contact (default: the listen IP, or 127.0.0.1).
    #[arg(long)]
    pub media_ip: Option<IpAddr>,
    /// How often to print a one-line JSON summary to stdout (0s: never).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub stats_interval: Duration,
    /// Write the final stats (with per-call records) as JSON here on exit.
    #[arg(long)]
    pub stats_file: Option<PathBuf>,
    /// Exit after this many calls have finished.
    #[arg(long)]
    pub max_calls: Option<u64>,
    /// Exit after this long.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Finished-call records kept for the stats file.
    #[arg(long, default_value_t = 10_000)]
    pub max_call_records: usize,
}

/// Run the simulator until Ctrl-C, `--duration` or `--max-calls`, then print and save stats.
pub async fn run_cli(args: SimArgs) -> Result<(), SimError> {
    crate::metrics::describe();
    let socket = tokio::net::UdpSocket::bind(args.listen)
        .await
        .map_err(|source| SimError::SipBind {
            addr: args.listen,
            source,
        })?;
    let mut builder = SipSim::builder()
        .default(args.default.clone())
        .credentials(&args.user, &args.password)
        .seed(args.seed)
        .rtp_sockets(args.rtp_sockets)
        .max_call_records(args.max_call_records);
    for r in &args.rules {
        builder = builder.add_rule(r.clone());
    }
    for m in &args.mix {
        builder = builder.mix(m.weight, m.behaviour.clone());
    }
    if let Some(ip) = args.media_ip {
        builder = builder.media_ip(ip);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sim = builder.build().spawn(socket, async {
        // A dropped sender also means stop.
        let _ = stopped.await;
    })?;
    tracing::info!(addr = %sim.addr(), "SIP simulator listening.");
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    let mut last_print = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = poll.tick() => {}
        }
        let now = tokio::time::Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            break;
        }
        let stats = sim.stats();
        if !args.stats_interval.is_zero() && now.duration_since(last_print) >= args.stats_interval {
            last_print = now;
            println!("{}", summary_json(&stats));
        }
        if args.max_calls.is_some_and(|max| finished(&stats) >= max) {
            break;
        }
    }
    let _ = stop.send(());
    let stats = sim.join().await;
    println!("{}", summary_json(&stats));
    if let Some(path) = &args.stats_file {
        let err = |source| SimError::StatsFile {
            path: path.display().to_string(),
            source,
        };
        // Serialising plain counters and records cannot fail.
        let json = serde_json::to_vec_pretty(&stats).map_err(|e| err(std::io::Error::other(e)))?;
        std::fs::write(path, json).map_err(err)?;
    }
    Ok(())
}

/// Calls that reached an end: answered-and-hung-up, busy, rejected, cancelled, auth failed.
fn finished(s: &SimStats) -> u64 {
    (s.answered - s.active_calls) + s.busy + s.rejected + s.cancelled + s.auth_failures
}

fn summary_json(s: &SimStats) -> String {
    let summary = SimStats {
        per_call: Vec::new(),
        ..s.clone()
    };
    serde_json::to_string(&summary).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn cli_arguments_parse_rules_mix_and_durations() {
        let args = SimArgs::try_parse_from([
            "sip",
            "--listen",
            "127.0.0.1:5099",
            "--default",
            "answer,ring=1s",
            "--rule",
            "*0486=busy",
            "--rule",
            "7700*=challenge=407/kz>answer",
            "--mix",
            "70:answer",
            "--mix",
            "30:busy=603",
            "--max-calls",
            "10",
            "--stats-interval",
            "0s",
        ])
        .unwrap();
        assert_eq!(args.listen.port(), 5099);
        assert_eq!(
            args.default,
            Behaviour::answer_after(Duration::from_secs(1))
        );
        assert_eq!(args.rules.len(), 2);
        assert_eq!(args.mix[1].behaviour, Behaviour::Busy(603));
        assert_eq!(args.max_calls, Some(10));
        assert!(args.stats_interval.is_zero());
    }

    #[test]
    fn a_bad_rule_is_a_cli_error_naming_it() {
        let err = SimArgs::try_parse_from(["sip", "--rule", "*1=busy=999"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("busy=999"), "{err}");
    }
}
