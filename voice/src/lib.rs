//! Voice: the calling side of robocalls over SIP trunks, streaming a G.711 prompt over RTP.
//!
//! Layers, bottom up (each a sans-IO core unless said otherwise):
//! - [`sip::msg`] (rsip syntax helpers), [`sip::transaction`] (RFC 3261 client
//!   transactions), [`sip::dialog`], [`sip::digest`] (401/407 answers), [`sdp`];
//! - [`call`]: one call's state machine combining them;
//! - [`rtp`]: the pacer core and thread (many streams, one timer), RFC 4733 DTMF, RTCP SR;
//! - [`transport`] and [`link`]: the tokio driver — one SIP socket per trunk, a task per
//!   call, and the [`link::CallLink`] the engine spawns per trunk.

pub mod call;
pub mod config;
pub mod link;
pub mod metrics;
pub mod outcome;
pub mod rtp;
pub mod sdp;
pub mod sip;
pub mod transport;

pub use config::SipTrunkConfig;
pub use link::{CallLink, CallLinkHandle};
