//! The store's metric names, and [`describe`] to register their help texts.
//!
//! Label: `backend` (`sqlite` or `postgres`) only.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

/// Histogram: seconds from a `write` call to its durable commit.
pub const WRITE_SECONDS: &str = "sendbox_store_write_seconds";
/// Gauge: ops waiting for the writer (accepted by `write`, not yet committed).
pub const BACKLOG: &str = "sendbox_store_backlog";
/// Histogram: ops per group commit (buckets: [`COMMIT_OPS_BUCKETS`]).
pub const COMMIT_OPS: &str = "sendbox_store_commit_ops";
/// Buckets for [`COMMIT_OPS`], in ops: a commit holds from one op to a whole backlog (in the
/// SMS load test most commits held 3,600 to 86,400 ops).
pub const COMMIT_OPS_BUCKETS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0,
    20_000.0, 50_000.0, 100_000.0,
];
/// Counter: receipts written (new ones only).
pub const RECEIPTS_TOTAL: &str = "sendbox_store_receipts_total";
/// Counter: receipts ignored because one existed for the dispatch.
pub const DUPLICATE_RECEIPTS_TOTAL: &str = "sendbox_store_duplicate_receipts_total";
/// Counter: failed writes (each failed `write` call counts once).
pub const WRITE_ERRORS_TOTAL: &str = "sendbox_store_write_errors_total";

/// Describe every metric of this crate to the installed recorder.
pub fn describe() {
    describe_histogram!(
        WRITE_SECONDS,
        Unit::Seconds,
        "Time from a store write call to its durable group commit."
    );
    describe_gauge!(BACKLOG, Unit::Count, "Store ops waiting for the writer.");
    describe_histogram!(COMMIT_OPS, Unit::Count, "Ops per group commit.");
    describe_counter!(RECEIPTS_TOTAL, Unit::Count, "New receipts written.");
    describe_counter!(
        DUPLICATE_RECEIPTS_TOTAL,
        Unit::Count,
        "Receipts ignored because the dispatch already had one."
    );
    describe_counter!(WRITE_ERRORS_TOTAL, Unit::Count, "Failed store writes.");
}
