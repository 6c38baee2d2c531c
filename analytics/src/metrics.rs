//! Metric names of the analytics crate, and [`describe`] for all of them.
//!
//! Emitted once per run or batch, never per row: a validation run, a bulk scoring call, a
//! training. Labels are low-cardinality (`result`, `scope`), never a number or an account.

use metrics::{Unit, counter, describe_counter};

/// Rows validated, by `result`: `valid`, `invalid`, `duplicate`.
pub const VALIDATION_ROWS_TOTAL: &str = "sendbox_validation_rows_total";
/// Recipients scored.
pub const SCORES_TOTAL: &str = "sendbox_scores_total";
/// Trainings, by `scope` (`global`, `account`) and `result` (`ok`, `not_enough_data`, `error`).
pub const MODEL_TRAININGS_TOTAL: &str = "sendbox_model_trainings_total";

/// Describes every metric above (call once at startup).
pub fn describe() {
    describe_counter!(
        VALIDATION_ROWS_TOTAL,
        Unit::Count,
        "Rows of client bases validated, by result."
    );
    describe_counter!(SCORES_TOTAL, Unit::Count, "Recipients scored.");
    describe_counter!(
        MODEL_TRAININGS_TOTAL,
        Unit::Count,
        "Engagement model trainings, by scope and result."
    );
}

/// Records a finished validation run.
pub(crate) fn validation_run(s: &crate::validate::Summary) {
    counter!(VALIDATION_ROWS_TOTAL, "result" => "valid").increment(s.valid - s.duplicates);
    counter!(VALIDATION_ROWS_TOTAL, "result" => "duplicate").increment(s.duplicates);
    counter!(VALIDATION_ROWS_TOTAL, "result" => "invalid").increment(s.invalid);
}

/// Records a bulk scoring call.
pub(crate) fn scored(n: usize) {
    counter!(SCORES_TOTAL).increment(n as u64);
}

/// Records one training.
pub(crate) fn trained(scope: &'static str, result: &'static str) {
    counter!(MODEL_TRAININGS_TOTAL, "scope" => scope, "result" => result).increment(1);
}
