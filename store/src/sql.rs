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
    /// Numbered parameter `n`.
    fn param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// `expr` cast to a 64-bit integer (PostgreSQL sums `BIGINT` to `NUMERIC`).
    fn int8(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("({expr})::int8"),
        }
    }
}

// The text of [`DISPATCH_STATE`], for `concat!`.
macro_rules! dispatch_state {
    () => {
        "CASE WHEN h.at >= d.state_at THEN 'handed_off' ELSE d.state END"
    };
}

/// A dispatch's state, over [`DISPATCH_FROM`]: its handoff, unless a state at least as new was
/// set on the row since (a handoff and a state at the same instant: the state was set after,
/// since setting it deletes the handoffs up to that instant).
pub(crate) const DISPATCH_STATE: &str = dispatch_state!();

/// The dispatch rows (`d`) with their current handoffs (`h`).
pub(crate) const DISPATCH_FROM: &str = "dispatches d LEFT JOIN handoffs h ON h.id = d.id";

/// The dispatch columns over [`DISPATCH_FROM`], in the order the backends' `dispatch` decoders
/// read them. A dispatch handed off before schema 3 has its handoff in its own row (its state
/// and `state_at` then include it), not in `handoffs`.
pub(crate) const DISPATCH_COLS: &str = concat!(
    "d.id, d.account, d.campaign, d.channel, d.class, d.msisdn, d.operator, d.content_ref,
    d.sender, d.segments, d.reserved_tiyn, d.accepted_at, d.not_before, ",
    dispatch_state!(),
    ", CASE WHEN h.at >= d.state_at THEN h.at ELSE d.state_at END,
    COALESCE(h.at, d.handed_off_at), COALESCE(h.local, d.handed_off_local),
    COALESCE(h.operator_ref, d.operator_ref), COALESCE(h.units, d.units),
    COALESCE(h.cost_tiyn, d.cost_tiyn)"
);

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

/// A campaign's dispatches counted by state (the receipt's, else the dispatch's); parameter 1:
/// the campaign.
pub(crate) fn campaign_counts(d: Dialect) -> String {
    let p1 = d.param(1);
    format!(
        "SELECT COALESCE(r.state, {DISPATCH_STATE}) AS s, COUNT(*)
         FROM {DISPATCH_FROM} LEFT JOIN receipts r ON r.dispatch_id = d.id
         WHERE d.campaign = {p1} GROUP BY s ORDER BY s"
    )
}

/// The compliance history of a number, oldest first; parameters: the number, the account (or
/// NULL for every account). The handoff is the dispatch's current one (in `handoffs`, or in
/// the row before schema 3), else (a later state ended it) its receipt's.
pub(crate) fn history(d: Dialect) -> String {
    let (p1, p2) = (d.param(1), d.param(2));
    let account = match d {
        Dialect::Sqlite => p2,
        Dialect::Postgres => format!("{p2}::text"),
    };
    format!(
        "SELECT d.id, d.account, d.campaign, d.channel, d.class, d.operator, d.sender,
                d.content_ref, d.accepted_at,
                COALESCE(h.at, d.handed_off_at, r.handed_off_at),
                COALESCE(h.local, d.handed_off_local, r.handed_off_local),
                r.final_at, r.final_local, COALESCE(r.state, {DISPATCH_STATE}), r.error,
                r.inside_window
         FROM {DISPATCH_FROM} LEFT JOIN receipts r ON r.dispatch_id = d.id
         WHERE d.msisdn = {p1} AND ({account} IS NULL OR d.account = {account})
         ORDER BY d.accepted_at, d.id"
    )
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
         FROM {DISPATCH_FROM} WHERE d.id IN (SELECT id FROM open_dispatches) ORDER BY d.id"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_ncols_counts_the_list() {
        // Each COALESCE has one comma inside.
        assert_eq!(
            DISPATCH_COLS.split(',').count() - DISPATCH_COLS.matches("COALESCE").count(),
            DISPATCH_NCOLS
        );
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
