//! Errors returned by the simulator's public API.

use std::net::SocketAddr;

/// A behaviour, rule or mix entry written in the text form could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// Returned by `Behaviour::from_str`, `Rule::from_str` and `MixEntry::from_str`.
    #[error("bad behaviour spec `{spec}`: {why}")]
    Behaviour {
        /// The text that was given.
        spec: String,
        /// What is wrong with it.
        why: String,
    },
}

/// Errors from [`crate::SipSim::spawn`] and [`crate::run_cli`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// Returned by `spawn` when the SIP socket's local address cannot be read.
    #[error("cannot read the SIP socket's local address: {0}")]
    LocalAddr(#[source] std::io::Error),
    /// Returned by `spawn` when an RTP receive socket cannot be bound or configured.
    #[error("cannot bind an RTP socket on {addr}: {source}")]
    RtpBind {
        /// Address that was tried.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Returned by `run_cli` when the SIP listen address cannot be bound.
    #[error("cannot bind the SIP socket on {addr}: {source}")]
    SipBind {
        /// Address that was tried.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Returned by `run_cli` when a `--rule`, `--mix` or `--default` value is malformed.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Returned by `run_cli` when the stats file cannot be written.
    #[error("cannot write stats to {path}: {source}")]
    StatsFile {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}
