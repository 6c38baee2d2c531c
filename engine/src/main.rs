//! `sendbox`: the dispatch engine's command line.
//!
//! ```text
//! sendbox run --config /etc/sendbox/sendbox.toml   # the daemon
//! sendbox check-config sendbox.toml                # validate and explain, no sockets
//! sendbox demo                                     # engine + simulators + sample campaign
//! sendbox transcode in.mp3 out.wav --law a         # audio to telephone G.711
//! sendbox score --evaluate -c sendbox.toml         # engagement model: AUC, calibration
//! sendbox report 123 --html out.html -c FILE       # a campaign's report
//! sendbox sim smsc --listen 127.0.0.1:2775         # an SMSC simulator
//! sendbox sim sip --listen 127.0.0.1:5070          # a SIP trunk simulator
//! sendbox hash-token TOKEN                         # the SHA-256 a config wants for a token
//! ```

use clap::{Parser, Subcommand};

// The engine allocates and frees many small objects per dispatch (PDUs, records, rows); a
// profile of the load test put 38 % of the time in glibc's malloc/free. mimalloc's
// thread-local free lists cut that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "sendbox", version, about = "SMS and voice dispatch engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start-up
enum Command {
    /// Run the daemon.
    Run {
        /// The configuration file.
        #[arg(long, short, default_value = "/etc/sendbox/sendbox.toml")]
        config: PathBuf,
    },
    /// Validate a configuration and print what it would do, without opening any socket.
    CheckConfig {
        /// The configuration file.
        file: PathBuf,
    },
    /// Run the engine against built-in operator simulators with a sample campaign.
    Demo(sendbox_engine::demo::DemoArgs),
    /// Transcode an audio file to 8 kHz G.711.
    Transcode(sendbox_engine::transcode::TranscodeArgs),
    /// Engagement models: train, or evaluate on held-out history (`--evaluate`).
    Score(sendbox_engine::reports::ScoreArgs),
    /// A campaign's report as HTML, JSON or CSV.
    Report(sendbox_engine::reports::ReportArgs),
    /// Operator simulators.
    #[command(subcommand)]
    Sim(Sim),
    /// Print the SHA-256 of an API token, as the config's `token_sha256` wants it.
    HashToken {
        /// The token.
        token: String,
    },
}

#[derive(Debug, Subcommand)]
enum Sim {
    /// An SMSC speaking SMPP.
    Smsc(sendbox_smsc_sim::SimArgs),
    /// A SIP trunk (UAS) that answers, rings, busies and measures RTP.
    Sip(sendbox_sip_sim::SimArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { file } => match sendbox_config::load(&file) {
            Ok(config) => {
                println!("{}: OK\n", file.display());
                println!("{}", config.summary());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(e.exit_code() as u8)
            }
        },
        Command::HashToken { token } => {
            println!("{}", sendbox_engine::auth::hash_hex(&token));
            ExitCode::SUCCESS
        }
        Command::Transcode(args) => sendbox_engine::transcode::run(args),
        Command::Run { config } => {
            runtime(async move { sendbox_engine::daemon::run(&config).await })
        }
        Command::Score(args) => runtime(async move { sendbox_engine::reports::score(args).await }),
        Command::Report(args) => {
            runtime(async move { sendbox_engine::reports::report(args).await })
        }
        Command::Demo(args) => runtime(async move { sendbox_engine::demo::run(args).await }),
        // One thread: an SMSC simulator does microseconds of work per PDU, and a second
        // worker only adds wake-ups next to the engine it is measured with.
        Command::Sim(Sim::Smsc(args)) => runtime_on_one_thread(async move {
            sendbox_engine::logging::init_human();
            sendbox_smsc_sim::run_cli(args)
                .await
                .map_err(anyhow::Error::from)?;
            Ok(ExitCode::SUCCESS)
        }),
        Command::Sim(Sim::Sip(args)) => runtime(async move {
            sendbox_engine::logging::init_human();
            sendbox_sip_sim::run_cli(args)
                .await
                .map_err(anyhow::Error::from)?;
            Ok(ExitCode::SUCCESS)
        }),
    }
}

fn runtime(fut: impl std::future::Future<Output = anyhow::Result<ExitCode>>) -> ExitCode {
    run_on(tokio::runtime::Builder::new_multi_thread(), fut)
}

fn runtime_on_one_thread(
    fut: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> ExitCode {
    run_on(tokio::runtime::Builder::new_current_thread(), fut)
}

fn run_on(
    mut builder: tokio::runtime::Builder,
    fut: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> ExitCode {
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sendbox: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(fut) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sendbox: {e:#}");
            ExitCode::FAILURE
        }
    }
}
