//! Voice: the calling side of robocalls over SIP trunks, streaming a G.711 prompt over RTP.
//!
//! Layers, bottom up (each a sans-IO core unless said otherwise):
//! - [`sip::msg`] (rsip syntax helpers), [`sip::transaction`] (RFC 3261 client
//!   transactions), [`sip::dialog`], [`sip::digest`] (401/407 answers), [`sdp`];
//! - [`call`]: one call's state machine combining them;
//! - [`rtp`]: the pacer core and thread (many streams, one timer), RFC 4733 DTMF, RTCP SR;
//! - [`transport`] and [`link`]: the tokio driver — one SIP transport per trunk (a UDP
//!   socket, or one persistent TCP connection framed by Content-Length), a task per call,
//!   and the [`link::CallLink`] the engine spawns per trunk. RTP is UDP either way.
//!
//! ## Stack choice
//!
//! rsip 0.4 for message syntax only, our own sans-IO transaction and dialog cores, and the
//! `digest_auth` crate for 401/407. Why:
//! - A robocall UAC needs a small part of RFC 3261: INVITE/non-INVITE client transactions
//!   over UDP (and TCP, where Timers A/E are off and D/K zero), one dialog per call, CANCEL, ACK, BYE and answers to a few in-dialog requests.
//!   Written sans-IO (`handle_input`/`handle_timeout`/`poll_output`/`poll_timeout`), every
//!   timer is tested on a virtual clock, and the driver is one task per call with no
//!   per-transaction tasks or locks — which is what 1,000 setups/s on 2 cores needs.
//!   rsipstack and ezk-sip own their transport and timers as tokio tasks (a transaction
//!   layer we could not drive from a virtual clock or fold into our per-call task).
//! - rsip's parser and builder are sound for what we use (parse, untyped headers, typed
//!   Via/To/CSeq/Contact/Record-Route on demand); its age does not matter for syntax.
//! - rsip's `DigestGenerator` is wrong (decimal `nc`, `-sess`, `SHA256` token); `digest_auth`
//!   0.3.1 was checked in source and by the RFC 2617 / RFC 7616 vectors: `nc` is 8 hex digits,
//!   `SHA-256` and `-sess` are right.
//! - SDP is `sdp-types`; RTP packets are `rtp-rs`; the pacer, RFC 4733 and RTCP SR are ours.

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
