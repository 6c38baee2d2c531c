//! SQL text both backends share: the column lists their row decoders read by position, and
//! the query of the unfinished dispatches with what each was billed so far. SQLite and
//! PostgreSQL differ here only in casts, so each text is written once with the cast as a
//! parameter ([`Dialect`]); placeholders (`?1` / `$1`) stay in each backend's own queries.

use crate::model::SECONDS_DEBIT_ATTEMPT_OFFSET;

/// Which backend a text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `expr` cast to a 64-bit integer (PostgreSQL sums `BIGINT` to `NUMERIC`).
    fn int8(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("({expr})::int8"),
        }
    }
}

/// The dispatch columns, in the order the backends' `dispatch` decoders read them.
pub(crate) const DISPATCH_COLS: &str = "id, account, campaign, channel, class, msisdn, operator,
    content_ref, sender, segments, reserved_tiyn, accepted_at, not_before, state, state_at,
    handed_off_at, handed_off_local, operator_ref, units, cost_tiyn";

/// How many columns [`DISPATCH_COLS`] names: the index of the first column after them.
pub(crate) const DISPATCH_NCOLS: usize = 20;

/// The receipt columns before the call detail, shared by both lists below.
macro_rules! receipt_cols_head {
    () => {
        "seq, dispatch_id, account, campaign, operator, channel, msisdn, state, error, segments,
    billable_seconds, cost_tiyn, accepted_at, handed_off_at, handed_off_local, final_at,
    final_local, inside_window, "
    };
}

/// The receipt columns, in the order the backends' `receipt` decoders read them (call detail
/// as JSON text: PostgreSQL stores it as `jsonb`).
pub(crate) const fn receipt_cols(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => concat!(receipt_cols_head!(), "call_detail, attempt"),
        Dialect::Postgres => concat!(receipt_cols_head!(), "call_detail::text, attempt"),
    }
}

/// Every open dispatch, in id order: [`DISPATCH_COLS`], then at [`DISPATCH_NCOLS`] its debits
/// so far (tiyn, positive) and at `DISPATCH_NCOLS + 1` its last billed attempt (0: none; the
/// per-second debits, keyed past [`SECONDS_DEBIT_ATTEMPT_OFFSET`], are not attempts).
pub(crate) fn unfinished(d: Dialect) -> String {
    let debited = d.int8("COALESCE(-SUM(amount_tiyn), 0)");
    let attempt = d.int8("COALESCE(MAX(attempt), 0)");
    format!(
        "SELECT {DISPATCH_COLS},
            (SELECT {debited} FROM ledger l WHERE l.dispatch_id = d.id AND l.kind = 'debit'),
            (SELECT {attempt} FROM ledger l WHERE l.dispatch_id = d.id AND l.kind = 'debit'
               AND l.attempt < {SECONDS_DEBIT_ATTEMPT_OFFSET})
         FROM dispatches d WHERE id IN (SELECT id FROM open_dispatches) ORDER BY id"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_ncols_counts_the_list() {
        assert_eq!(DISPATCH_COLS.split(',').count(), DISPATCH_NCOLS);
    }

    #[test]
    fn receipt_lists_differ_only_in_the_call_detail_cast() {
        let (s, p) = (
            receipt_cols(Dialect::Sqlite),
            receipt_cols(Dialect::Postgres),
        );
        assert_eq!(s.split(',').count(), 20);
        assert_eq!(p.replace("call_detail::text", "call_detail"), s);
    }

    #[test]
    fn only_postgres_casts_the_billed_sums() {
        assert!(!unfinished(Dialect::Sqlite).contains("::"));
        assert_eq!(unfinished(Dialect::Postgres).matches("::int8").count(), 2);
    }
}
