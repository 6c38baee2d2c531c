//! `sendbox-load`: load drivers that push dispatches through the engine's real HTTP API and
//! report throughput and hdrhistogram percentiles as JSON plus a human summary.

mod common;
mod sms;
mod voice;

use clap::{Parser, Subcommand};

/// Command line of the load driver.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Post SMS batches, then read receipts back and report latencies and throughput.
    Sms(sms::SmsArgs),
    /// Run a voice campaign with a generated WAV prompt and report setups/s and RTP figures.
    Voice(voice::VoiceArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Sms(a) => sms::run(a).await,
        Cmd::Voice(a) => voice::run(a).await,
    }
}
