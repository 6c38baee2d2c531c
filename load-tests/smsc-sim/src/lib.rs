//! An SMSC simulator speaking SMPP 3.4/5.0 over TCP, for tests, load tests and `sendbox sim smsc`.
//!
//! It is a real SMPP server on the rusmpp codec: binds with credential checks, submit_sm answered with
//! configurable latency, throttling (0x58) and connection drops, delivery receipts (text and/or TLVs,
//! weighted status mix, hex or decimal ids, before or after the response), MO injection, and
//! deliberately malformed PDUs. It counts everything, so a test can prove nothing was lost or
//! duplicated.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use sendbox_smsc_sim::{SmscSim, Stat};
//! let sim = SmscSim::builder()
//!     .credentials("sys", "pw")
//!     .receipt_delay(Duration::from_millis(20))
//!     .status_mix(&[(Stat::Delivrd, 9), (Stat::Undeliv, 1)])
//!     .throttle_every(500)
//!     .spawn()
//!     .await?;
//! // point the engine at sim.addr(), send, then:
//! let stats = sim.stats();
//! assert_eq!(stats.duplicates, 0);
//! # Ok(()) }
//! ```

mod cli;
mod config;
mod deliver;
mod receipt;
mod server;
mod session;
mod stats;
mod submit;
pub mod wire;

pub use cli::{SimArgs, SimCliError, run_cli};
pub use config::{Malformed, ReceiptFormat, SimBuilder, SimConfig, SmppVersion, Stat};
pub use server::{SimHandle, SmscSim};
pub use stats::{Received, SimStats};
