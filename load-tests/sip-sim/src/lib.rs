//! A SIP UAS simulator that stands in for an operator's SIP trunk, for tests, load tests and
//! `sendbox sim sip`.
//!
//! It answers after a ring delay, returns busy or another failure, rings until CANCEL,
//! challenges with 401/407 digest (MD5 or SHA-256, `qop=auth`), sends RFC 4733 DTMF, hangs up
//! early, and meters the RTP it receives (packets, loss, duplicates, inter-arrival deviation
//! from ptime, RFC 3550 jitter). The behaviour is chosen per call from the dialed number.
//!
//! Layout: `uas` is the sans-IO SIP core (transactions, dialogs, timers); `sim` is its tokio
//! driver and the public [`SipSim`] / [`SimHandle`]; RTP is received by a few blocking threads
//! on shared sockets (`rtp_rx`) feeding per-call [`RtpMeter`]s.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sendbox_sip_sim::SimError> {
//! use std::time::Duration;
//! use sendbox_sip_sim::{Behaviour, SipSim};
//! let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let sim = SipSim::builder()
//!     .default(Behaviour::answer_after(Duration::from_millis(200)))
//!     .rule("*0486", Behaviour::Busy(486))
//!     .build()
//!     .spawn(socket, async { let _ = stopped.await; })?;
//! // ... place calls to sim.addr() ...
//! let _ = stop.send(());
//! let stats = sim.stats();
//! println!("{} answered, {} RTP packets, p99 deviation {} µs", stats.answered, stats.rtp_packets, stats.interarrival.p99_us);
//! # Ok(()) }
//! ```

mod auth;
mod behaviour;
mod call;
mod cli;
mod dtmf;
mod error;
pub mod metrics;
mod rtp_drain;
mod rtp_meter;
mod rtp_rx;
pub mod sdp;
mod sim;
mod sipmsg;
mod stats;
mod tally;
mod uas;

pub use auth::{AuthCheck, DigestVerifier};
pub use behaviour::{
    Behaviour, BehaviourTable, DigestAlgorithm, FirstCalls, MixEntry, Pattern, Rule,
};
pub use cli::{SimArgs, run_cli};
pub use dtmf::event_code;
pub use error::{SimError, SpecError};
pub use rtp_meter::{Observed, RtpMeter};
pub use sim::{SimHandle, SipSim, SipSimBuilder};
pub use stats::{CallRecord, CallResult, DeviationSummary, Hangup, SimStats};
