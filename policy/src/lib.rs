//! Tokio-free policy checks: number parsing, routing, blacklist, calling window, balance.
