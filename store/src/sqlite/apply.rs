//! One caller's ops, applied inside the writer's open transaction with prepared statements.

use crate::StoreError;
use crate::model::{WriteOp, WriteResult};
use crate::time::to_micros;
use rusqlite::{CachedStatement, Connection, params};

use super::batch::{Pending, flush, flush_accepts_and_handoffs};
use super::raw::{RawStatement, RawStatements};

// A state set by a later event than the row's state and the handoff wins. (Once a receipt
// exists, reads ignore this column.)
static UPDATE_STATE: &str = "UPDATE dispatches SET state = ?2, state_at = ?3,
    not_before = COALESCE(?4, not_before)
    WHERE id = ?1 AND state_at <= ?3
    AND NOT EXISTS (SELECT 1 FROM handoffs WHERE id = ?1 AND at > ?3)";

// ... and ends the handoff it follows (the dispatch is no longer with the operator).
static END_HANDOFF: &str = "DELETE FROM handoffs WHERE id = ?1 AND at <= ?2";

static INSERT_FEEDBACK: &str = "INSERT INTO feedback (account, msisdn, dispatch_id, kind, body, at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static INSERT_CAMPAIGN: &str = "INSERT OR IGNORE INTO campaigns (id, account, channel, created_at,
    total) VALUES (?1, ?2, ?3, ?4, ?5)";

static INSERT_AUDIO: &str = "INSERT OR IGNORE INTO audio (id, metadata, alaw, created_at)
    VALUES (?1, ?2, ?3, ?4)";

/// The statements of one transaction, prepared (from the connection's cache) on first use:
/// looking a statement up by its SQL text for every op hashes the text every time. The
/// multi-row inserts are the writer's own [`RawStatements`], kept across transactions.
pub(crate) struct Statements<'c> {
    conn: &'c Connection,
    prepared: Vec<(&'static str, CachedStatement<'c>)>,
    raw: &'c mut RawStatements,
}

impl<'c> Statements<'c> {
    /// No statement prepared yet from the cache; `raw` are the writer's.
    pub(crate) fn new(conn: &'c Connection, raw: &'c mut RawStatements) -> Self {
        Statements {
            conn,
            prepared: Vec::with_capacity(10),
            raw,
        }
    }

    /// A multi-row insert, bound without copying its text (see [`super::raw`]).
    pub(crate) fn raw(&mut self, sql: &'static str) -> Result<&mut RawStatement, StoreError> {
        self.raw.get(self.conn, sql)
    }

    /// The connection the statements belong to.
    pub(crate) fn conn(&self) -> &'c Connection {
        self.conn
    }

    pub(crate) fn get(
        &mut self,
        sql: &'static str,
    ) -> Result<&mut CachedStatement<'c>, StoreError> {
        // Statements are keyed by the address of their `static` text: a pointer compare.
        let i = match self
            .prepared
            .iter()
            .position(|(k, _)| std::ptr::eq(*k, sql))
        {
            Some(i) => i,
            None => {
                self.prepared.push((sql, self.conn.prepare_cached(sql)?));
                self.prepared.len() - 1
            }
        };
        Ok(&mut self.prepared[i].1)
    }
}

/// Apply `ops` in order inside the writer's open transaction.
///
/// Accepted dispatches, handoffs, receipts and ledger entries are gathered and inserted many
/// rows per statement (see [`super::batch`]), with the same outcome as applying every op in
/// turn:
/// - every other op reads or updates dispatch rows or handoffs, so gathered accepts and
///   handoffs are written first;
/// - nothing reads receipts or the ledger except an accept's open-row check, and an accept
///   and a receipt of one dispatch leave it closed in either order;
/// - the rest is written at the end.
pub(crate) fn apply(st: &mut Statements<'_>, ops: &[WriteOp]) -> Result<WriteResult, StoreError> {
    let mut result = WriteResult::default();
    let mut pending = Pending::default();
    for op in ops {
        match op {
            WriteOp::Final(r) => pending.receipts.push(r),
            WriteOp::Ledger(l) => pending.ledger.push(l),
            WriteOp::AcceptDispatch(d) => pending.accepts.push(d),
            WriteOp::HandedOff { id, handoff } => pending.handoffs.push((*id, handoff)),
            other => {
                flush_accepts_and_handoffs(st, &mut pending)?;
                apply_unbatched(st, other)?;
            }
        }
    }
    flush(st, &mut pending, &mut result)?;
    Ok(result)
}

// Ids were checked to fit i64 by `validate::check_ops`, so the `as i64` casts are lossless.
fn apply_unbatched(st: &mut Statements<'_>, op: &WriteOp) -> Result<(), StoreError> {
    match op {
        // Gathered by `apply`.
        WriteOp::Final(_)
        | WriteOp::Ledger(_)
        | WriteOp::AcceptDispatch(_)
        | WriteOp::HandedOff { .. } => {}
        WriteOp::UpdateState {
            id,
            state,
            at,
            not_before,
        } => {
            let at = to_micros(*at);
            st.get(UPDATE_STATE)?.execute(params![
                *id as i64,
                state.as_str(),
                at,
                not_before.map(to_micros)
            ])?;
            st.get(END_HANDOFF)?.execute(params![*id as i64, at])?;
        }
        WriteOp::Feedback(f) => {
            st.get(INSERT_FEEDBACK)?.execute(params![
                f.account,
                f.msisdn as i64,
                f.dispatch_id.map(|d| d as i64),
                f.kind.as_str(),
                f.body,
                to_micros(f.at),
            ])?;
        }
        WriteOp::Campaign(c) => {
            st.get(INSERT_CAMPAIGN)?.execute(params![
                c.id as i64,
                c.account,
                c.channel.as_str(),
                to_micros(c.created_at),
                c.total as i64,
            ])?;
        }
        WriteOp::Audio(a) => {
            st.get(INSERT_AUDIO)?.execute(params![
                a.id,
                a.metadata.to_string(),
                a.alaw,
                to_micros(a.created_at),
            ])?;
        }
    }
    Ok(())
}
