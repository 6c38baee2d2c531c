//! SMPP: sans-IO session core, tokio bind driver, receipts, and the SMS operator link.
//!
//! Layers, bottom up:
//! - [`frame`] cuts the byte stream into PDUs by `command_length`; [`pdu`] decodes them with
//!   rusmpp (and [`lenient`] when rusmpp refuses) and writes the PDUs we send;
//! - [`session`] is the sans-IO SMPP session: bind, window, timers, answers to the peer;
//! - [`status`] says what a submit status means; [`text`] turns a dispatch into submit_sm fields;
//! - [`dlr`] reads delivery receipts, [`correlate`] matches them to dispatches;
//! - [`latency`] keeps this run's exact submit-to-response percentiles;
//! - the driver runs one session over TCP per bind; [`link`] runs an operator's binds and
//!   reports to the dispatch core through `sendbox_dispatch::LinkEvents`.
//!
//! The engine calls [`link::SmsLink::spawn`] once per operator.

#![warn(missing_docs)]

pub mod backoff;
pub mod config;
pub mod correlate;
pub mod dlr;
mod driver;
pub mod frame;
mod inflight;
pub mod latency;
pub mod lenient;
pub mod link;
pub mod metrics;
pub mod pdu;
pub mod session;
mod session_types;
pub mod status;
pub mod text;

pub use config::{BindConfig, BindMode, IdBase, SmppLinkConfig, SmppVersion};
pub use link::{BindStatus, LinkState, SmsLink, SmsLinkHandle};
