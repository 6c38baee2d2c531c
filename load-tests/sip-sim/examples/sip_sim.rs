//! Stand-alone `sendbox sim sip` for manual runs:
//! `cargo run -p sendbox-sip-sim --example sip_sim -- --listen 127.0.0.1:5070 --rule '*0486=busy'`.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match sendbox_sip_sim::run_cli(sendbox_sip_sim::SimArgs::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sip-sim: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
