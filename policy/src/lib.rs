//! Tokio-free policy checks: number parsing, routing, blacklist, calling window, balance.

pub mod blacklist;
mod index;
pub mod lines;
pub mod number;
pub mod portability;
pub mod route;

pub use number::{LineType, Msisdn, NumberError};
pub use sendbox_dispatch::{AccountId, Channel, OperatorId, TrafficClass};
