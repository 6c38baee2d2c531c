//! The sendbox daemon: ingest API, policy pipeline, queues, operator links, receipts, store
//! and metrics, assembled.
//!
//! A dispatch flows: API ([`api`]) → number, route and blacklist stages ([`ingest`]) → the
//! durable outbox (store) → window and balance stages ([`core::Core::admit`]) → the operator's
//! fair queue → its link (SMPP binds or SIP trunk, [`links`]) → handoff (debit) → final
//! outcome (receipt), written by the record writer ([`records`]).

pub mod api;
pub mod app;
pub mod auth;
pub mod core;
mod core_metrics;
pub mod daemon;
pub mod deferral;
pub mod demo;
pub mod demo_sample;
pub mod demo_sims;
pub mod ids;
pub mod ingest;
pub mod insights;
pub mod link_runtime;
pub mod links;
pub mod logging;
pub mod metrics;
pub mod records;
pub mod reports;
pub mod stats;
pub mod tables;
pub mod transcode;
