//! One caller's ops, applied inside the writer's open transaction with prepared statements.

use crate::StoreError;
use crate::model::{LedgerKey, WriteOp, WriteResult};
use crate::time::to_micros;
use rusqlite::{CachedStatement, Connection, params};

static INSERT_DISPATCH: &str = "INSERT OR IGNORE INTO dispatches (id, account, campaign, channel,
    class, msisdn, operator, content_ref, sender, segments, reserved_tiyn, accepted_at,
    not_before, state, state_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
    ?14, ?12)";

// Unless a receipt came first (out of order), the dispatch is open until its receipt.
static OPEN: &str = "INSERT OR IGNORE INTO open_dispatches (id)
    SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM receipts WHERE dispatch_id = ?1)";

// A state set by a later event wins. (Once a receipt exists, reads ignore this column.)
static UPDATE_STATE: &str = "UPDATE dispatches SET state = ?2, state_at = ?3,
    not_before = COALESCE(?4, not_before)
    WHERE id = ?1 AND state_at <= ?3";

static HANDED_OFF: &str = "UPDATE dispatches SET
    state = CASE WHEN state_at > ?2 THEN state ELSE 'handed_off' END,
    state_at = CASE WHEN state_at > ?2 THEN state_at ELSE ?2 END,
    handed_off_at = ?2, handed_off_local = ?3, operator_ref = ?4, units = ?5, cost_tiyn = ?6
    WHERE id = ?1";

static INSERT_RECEIPT: &str = "INSERT OR IGNORE INTO receipts (dispatch_id, account, campaign,
    operator, channel, msisdn, state, error, segments, billable_seconds, cost_tiyn, accepted_at,
    handed_off_at, handed_off_local, final_at, final_local, inside_window, call_detail, attempt)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

static CLOSE: &str = "DELETE FROM open_dispatches WHERE id = ?1";

static INSERT_LEDGER: &str = "INSERT OR IGNORE INTO ledger (dispatch_id, account, kind, attempt,
    amount_tiyn, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static INSERT_FEEDBACK: &str = "INSERT INTO feedback (account, msisdn, dispatch_id, kind, body, at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static INSERT_CAMPAIGN: &str = "INSERT OR IGNORE INTO campaigns (id, account, channel, created_at,
    total) VALUES (?1, ?2, ?3, ?4, ?5)";

static INSERT_AUDIO: &str = "INSERT OR IGNORE INTO audio (id, metadata, alaw, created_at)
    VALUES (?1, ?2, ?3, ?4)";

/// The statements of one transaction, prepared (from the connection's cache) on first use:
/// looking a statement up by its SQL text for every op hashes the text every time.
pub(crate) struct Statements<'c> {
    conn: &'c Connection,
    prepared: Vec<(&'static str, CachedStatement<'c>)>,
}

impl<'c> Statements<'c> {
    /// No statement prepared yet.
    pub(crate) fn new(conn: &'c Connection) -> Self {
        Statements {
            conn,
            prepared: Vec::with_capacity(10),
        }
    }

    fn get(&mut self, sql: &'static str) -> Result<&mut CachedStatement<'c>, StoreError> {
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
pub(crate) fn apply(st: &mut Statements<'_>, ops: &[WriteOp]) -> Result<WriteResult, StoreError> {
    let mut result = WriteResult::default();
    for op in ops {
        apply_one(st, op, &mut result)?;
    }
    Ok(result)
}

// Ids were checked to fit i64 by `validate::check_ops`, so the `as i64` casts are lossless.
fn apply_one(
    st: &mut Statements<'_>,
    op: &WriteOp,
    result: &mut WriteResult,
) -> Result<(), StoreError> {
    match op {
        WriteOp::AcceptDispatch(d) => {
            let inserted = st.get(INSERT_DISPATCH)?.execute(params![
                d.id as i64,
                d.account,
                d.campaign.map(|c| c as i64),
                d.channel.as_str(),
                d.class.as_str(),
                d.msisdn as i64,
                d.operator,
                d.content_ref,
                d.sender,
                d.segments,
                d.reserved_tiyn,
                to_micros(d.accepted_at),
                d.not_before.map(to_micros),
                d.state.as_str(),
            ])?;
            if inserted == 1 {
                st.get(OPEN)?.execute([d.id as i64])?;
            }
        }
        WriteOp::UpdateState {
            id,
            state,
            at,
            not_before,
        } => {
            st.get(UPDATE_STATE)?.execute(params![
                *id as i64,
                state.as_str(),
                to_micros(*at),
                not_before.map(to_micros)
            ])?;
        }
        WriteOp::HandedOff { id, handoff: h } => {
            st.get(HANDED_OFF)?.execute(params![
                *id as i64,
                to_micros(h.at_utc),
                h.at_local,
                h.operator_ref,
                h.units,
                h.cost_tiyn,
            ])?;
        }
        WriteOp::Final(r) => {
            let call = r
                .call
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| StoreError::InvalidWrite(format!("call detail: {e}")))?;
            let inserted = st.get(INSERT_RECEIPT)?.execute(params![
                r.dispatch_id as i64,
                r.account,
                r.campaign.map(|c| c as i64),
                r.operator,
                r.channel.as_str(),
                r.msisdn as i64,
                r.state.as_str(),
                r.error,
                r.segments,
                r.billable_seconds,
                r.cost_tiyn,
                to_micros(r.accepted_at),
                r.handed_off_at_utc.map(to_micros),
                r.handed_off_local,
                to_micros(r.final_at_utc),
                r.final_local,
                r.inside_window,
                call,
                r.attempt,
            ])?;
            if inserted == 1 {
                st.get(CLOSE)?.execute([r.dispatch_id as i64])?;
                result.new_receipts.push(r.dispatch_id);
            } else {
                result.duplicate_receipts.push(r.dispatch_id);
            }
        }
        WriteOp::Ledger(l) => {
            let inserted = st.get(INSERT_LEDGER)?.execute(params![
                l.dispatch_id.map(|d| d as i64),
                l.account,
                l.kind.as_str(),
                l.attempt,
                l.amount_tiyn,
                to_micros(l.at),
            ])?;
            if let (0, Some(dispatch_id)) = (inserted, l.dispatch_id) {
                result.duplicate_ledger.push(LedgerKey {
                    dispatch_id,
                    kind: l.kind,
                    attempt: l.attempt,
                });
            }
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
