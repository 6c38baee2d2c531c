//! SQLite queries behind the [`crate::Store`] read methods.

use crate::StoreError;
use crate::model::*;
use crate::sql::{self, DISPATCH_COLS, DISPATCH_FROM, Dialect};
use crate::time::{almaty_local, from_micros};
use crate::validate as v;
use rusqlite::{Connection, OptionalExtension, Row, params};

const RECEIPT_COLS: &str = sql::receipt_cols(Dialect::Sqlite);
/// Feedback to a campaign's dispatches: those stored, and those known only by their receipt.
const CAMPAIGN_FEEDBACK: &str = "dispatch_id IN (SELECT id FROM dispatches WHERE campaign = ?1
    UNION SELECT dispatch_id FROM receipts WHERE campaign = ?1)";

/// Runs `f`; pins the closure's error type to [`StoreError`].
fn try_row<T>(f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    f()
}

/// Collects rows, decoding each; a rusqlite error or a decode error stops it.
fn collect<T>(
    rows: impl Iterator<Item = rusqlite::Result<Result<T, StoreError>>>,
) -> Result<Vec<T>, StoreError> {
    rows.map(|r| r.map_err(StoreError::from).and_then(|x| x))
        .collect()
}

fn receipt(r: &Row<'_>) -> Result<StoredReceipt, StoreError> {
    Ok(StoredReceipt {
        seq: r.get(0)?,
        receipt: ReceiptRow {
            dispatch_id: v::unsigned("dispatch id", r.get(1)?)?,
            account: r.get(2)?,
            campaign: r
                .get::<_, Option<i64>>(3)?
                .map(|c| v::unsigned("campaign", c))
                .transpose()?,
            operator: r.get(4)?,
            channel: v::channel(&r.get::<_, String>(5)?)?,
            msisdn: v::unsigned("msisdn", r.get(6)?)?,
            state: v::final_state(&r.get::<_, String>(7)?)?,
            error: r.get(8)?,
            segments: v::small("segments", r.get(9)?)?,
            billable_seconds: v::small("billable seconds", r.get(10)?)?,
            cost_tiyn: r.get(11)?,
            accepted_at: from_micros(r.get(12)?)?,
            handed_off_at_utc: r.get::<_, Option<i64>>(13)?.map(from_micros).transpose()?,
            handed_off_local: v::opt_local_time(r.get(14)?)?,
            final_at_utc: from_micros(r.get(15)?)?,
            final_local: v::local_time(r.get(16)?)?,
            inside_window: r.get(17)?,
            call: v::call_detail(r.get(18)?)?,
            attempt: v::small("attempt", r.get(19)?)?,
        },
    })
}

fn dispatch(r: &Row<'_>) -> Result<(DispatchRow, i64, Option<Handoff>), StoreError> {
    let row = DispatchRow {
        id: v::unsigned("dispatch id", r.get(0)?)?,
        account: r.get(1)?,
        campaign: r
            .get::<_, Option<i64>>(2)?
            .map(|c| v::unsigned("campaign", c))
            .transpose()?,
        channel: v::channel(&r.get::<_, String>(3)?)?,
        class: v::class(&r.get::<_, String>(4)?)?,
        msisdn: v::unsigned("msisdn", r.get(5)?)?,
        operator: r.get(6)?,
        content_ref: r.get(7)?,
        sender: r.get(8)?,
        segments: v::small("segments", r.get(9)?)?,
        reserved_tiyn: r.get(10)?,
        accepted_at: from_micros(r.get(11)?)?,
        not_before: r.get::<_, Option<i64>>(12)?.map(from_micros).transpose()?,
        state: v::dispatch_state(&r.get::<_, String>(13)?)?,
    };
    let handoff = match r.get::<_, Option<i64>>(15)? {
        Some(at) => Some(Handoff {
            at_utc: from_micros(at)?,
            at_local: v::opt_local_time(r.get(16)?)?.unwrap_or_default(),
            operator_ref: r.get::<_, Option<String>>(17)?.unwrap_or_default(),
            units: v::small("units", r.get::<_, Option<i64>>(18)?.unwrap_or(0))?,
            cost_tiyn: r.get::<_, Option<i64>>(19)?.unwrap_or(0),
        }),
        None => None,
    };
    // A handoff older than the dispatch's state is over (a late report of an ended attempt).
    let handoff = handoff.filter(|_| row.state == DispatchState::HandedOff);
    Ok((row, r.get(14)?, handoff))
}

pub(crate) fn receipts_after(
    conn: &Connection,
    cursor: i64,
    limit: u32,
    account: Option<&str>,
) -> Result<ReceiptPage, StoreError> {
    match account {
        Some(a) => receipts_where(conn, "account", a, cursor, limit),
        None => {
            let mut s = conn.prepare_cached(&format!(
                "SELECT {RECEIPT_COLS} FROM receipts WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            let receipts = collect(s.query_map(params![cursor, limit], |r| Ok(receipt(r)))?)?;
            Ok(ReceiptPage::after(cursor, receipts))
        }
    }
}

pub(crate) fn campaign_receipts(
    conn: &Connection,
    campaign: u64,
    cursor: i64,
    limit: u32,
) -> Result<ReceiptPage, StoreError> {
    match i64::try_from(campaign) {
        Ok(c) => receipts_where(conn, "campaign", c, cursor, limit),
        Err(_) => Ok(ReceiptPage::after(cursor, Vec::new())),
    }
}

/// The page of receipts whose `column` (indexed with `seq`) equals `key`.
fn receipts_where(
    conn: &Connection,
    column: &str,
    key: impl rusqlite::ToSql,
    cursor: i64,
    limit: u32,
) -> Result<ReceiptPage, StoreError> {
    let mut s = conn.prepare_cached(&format!(
        "SELECT {RECEIPT_COLS} FROM receipts WHERE {column} = ?1 AND seq > ?2
         ORDER BY seq LIMIT ?3"
    ))?;
    let receipts = collect(s.query_map(params![key, cursor, limit], |r| Ok(receipt(r)))?)?;
    Ok(ReceiptPage::after(cursor, receipts))
}

pub(crate) fn dispatch_view(
    conn: &Connection,
    id: u64,
) -> Result<Option<DispatchView>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let mut s = conn.prepare_cached(&format!(
        "SELECT {DISPATCH_COLS} FROM {DISPATCH_FROM} WHERE d.id = ?1"
    ))?;
    let Some(found) = s.query_row([id], |r| Ok(dispatch(r))).optional()? else {
        return Ok(None);
    };
    let (mut row, state_at, handoff) = found?;
    let mut s = conn.prepare_cached(&format!(
        "SELECT {RECEIPT_COLS} FROM receipts WHERE dispatch_id = ?1"
    ))?;
    let receipt = s
        .query_row([id], |r| Ok(receipt(r)))
        .optional()?
        .transpose()?;
    let mut state_at = from_micros(state_at)?;
    if let Some(r) = &receipt {
        row.state = DispatchState::Final;
        state_at = r.receipt.final_at_utc;
    }
    Ok(Some(DispatchView {
        row,
        state_at,
        handoff,
        receipt,
    }))
}

pub(crate) fn campaign(conn: &Connection, id: u64) -> Result<Option<CampaignRow>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let mut s = conn.prepare_cached(
        "SELECT id, account, channel, created_at, total FROM campaigns WHERE id = ?1",
    )?;
    s.query_row([id], |r| {
        Ok(try_row(|| {
            Ok(CampaignRow {
                id: v::unsigned("campaign", r.get(0)?)?,
                account: r.get(1)?,
                channel: v::channel(&r.get::<_, String>(2)?)?,
                created_at: from_micros(r.get(3)?)?,
                total: v::unsigned("total", r.get(4)?)?,
            })
        }))
    })
    .optional()?
    .transpose()
}

pub(crate) fn campaign_counts(
    conn: &Connection,
    campaign: u64,
) -> Result<Vec<StateCount>, StoreError> {
    let mut s = conn.prepare_cached(&sql::campaign_counts(Dialect::Sqlite))?;
    collect(s.query_map([campaign as i64], |r| {
        Ok(try_row(|| {
            Ok(StateCount {
                state: r.get(0)?,
                count: v::unsigned("count", r.get(1)?)?,
            })
        }))
    })?)
}

pub(crate) fn history(
    conn: &Connection,
    msisdn: u64,
    account: Option<&str>,
) -> Result<Vec<HistoryRow>, StoreError> {
    let mut s = conn.prepare_cached(&sql::history(Dialect::Sqlite))?;
    collect(s.query_map(params![msisdn as i64, account], |r| {
        Ok(try_row(|| {
            let accepted_at = from_micros(r.get(8)?)?;
            Ok(HistoryRow {
                dispatch_id: v::unsigned("dispatch id", r.get(0)?)?,
                account: r.get(1)?,
                campaign: r
                    .get::<_, Option<i64>>(2)?
                    .map(|c| v::unsigned("campaign", c))
                    .transpose()?,
                channel: v::channel(&r.get::<_, String>(3)?)?,
                class: v::class(&r.get::<_, String>(4)?)?,
                operator: r.get(5)?,
                sender: r.get(6)?,
                content_ref: r.get(7)?,
                accepted_at,
                accepted_local: almaty_local(accepted_at),
                handed_off_at: r.get::<_, Option<i64>>(9)?.map(from_micros).transpose()?,
                handed_off_local: r.get(10)?,
                final_at: r.get::<_, Option<i64>>(11)?.map(from_micros).transpose()?,
                final_local: r.get(12)?,
                result: r.get(13)?,
                error: r.get(14)?,
                inside_window: r.get(15)?,
            })
        }))
    })?)
}

pub(crate) fn unfinished(conn: &Connection) -> Result<Vec<Unfinished>, StoreError> {
    let mut s = conn.prepare_cached(&sql::unfinished(Dialect::Sqlite))?;
    collect(s.query_map([], |r| {
        Ok(try_row(|| {
            let (row, _, handoff) = dispatch(r)?;
            let billed = BilledSoFar {
                attempts: v::small("attempt", r.get(sql::DISPATCH_NCOLS + 1)?)?,
                debited_tiyn: r.get(sql::DISPATCH_NCOLS)?,
            };
            Ok(Unfinished::new(row, handoff, billed))
        }))
    })?)
}

pub(crate) fn balances(conn: &Connection) -> Result<Vec<Balance>, StoreError> {
    let mut s = conn.prepare_cached(
        "SELECT account, SUM(amount_tiyn) FROM ledger GROUP BY account ORDER BY account",
    )?;
    collect(s.query_map([], |r| {
        Ok(Ok(Balance {
            account: r.get(0)?,
            ledger_sum_tiyn: r.get(1)?,
        }))
    })?)
}

pub(crate) fn last_dispatch_to(
    conn: &Connection,
    account: Option<&str>,
    msisdn: u64,
) -> Result<Option<(u64, String)>, StoreError> {
    let mut s = conn.prepare_cached(
        "SELECT id, account FROM dispatches WHERE msisdn = ?1 AND (?2 IS NULL OR account = ?2)
         ORDER BY accepted_at DESC, id DESC LIMIT 1",
    )?;
    let found = s
        .query_row(params![msisdn as i64, account], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    found
        .map(|(id, a)| Ok((v::unsigned("dispatch id", id)?, a)))
        .transpose()
}

pub(crate) fn feedback_for(
    conn: &Connection,
    key: FeedbackKey,
) -> Result<Vec<StoredFeedback>, StoreError> {
    let (sql, arg, limit) = match key {
        FeedbackKey::Dispatch(d) => ("dispatch_id = ?1", d as i64, String::new()),
        FeedbackKey::Msisdn(m) => ("msisdn = ?1", m as i64, String::new()),
        FeedbackKey::Campaign(c) => (CAMPAIGN_FEEDBACK, c as i64, String::new()),
        FeedbackKey::After { after, limit } => ("seq > ?1", after, format!(" LIMIT {limit}")),
    };
    let mut s = conn.prepare_cached(&format!(
        "SELECT seq, account, msisdn, dispatch_id, kind, body, at FROM feedback
         WHERE {sql} ORDER BY seq{limit}"
    ))?;
    collect(s.query_map([arg], |r| {
        Ok(try_row(|| {
            let kind: String = r.get(4)?;
            Ok(StoredFeedback {
                seq: r.get(0)?,
                feedback: FeedbackRow {
                    account: r.get(1)?,
                    msisdn: v::unsigned("msisdn", r.get(2)?)?,
                    dispatch_id: r
                        .get::<_, Option<i64>>(3)?
                        .map(|d| v::unsigned("dispatch id", d))
                        .transpose()?,
                    kind: FeedbackKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("feedback kind {kind:?}")))?,
                    body: r.get(5)?,
                    at: from_micros(r.get(6)?)?,
                },
            })
        }))
    })?)
}

pub(crate) fn audio_get(conn: &Connection, id: &str) -> Result<Option<AudioRow>, StoreError> {
    let mut s =
        conn.prepare_cached("SELECT id, metadata, alaw, created_at FROM audio WHERE id = ?1")?;
    s.query_row([id], |r| {
        Ok(try_row(|| {
            let meta: String = r.get(1)?;
            Ok(AudioRow {
                id: r.get(0)?,
                metadata: serde_json::from_str(&meta)
                    .map_err(|e| StoreError::Corrupt(format!("audio metadata: {e}")))?,
                alaw: r.get(2)?,
                created_at: from_micros(r.get(3)?)?,
            })
        }))
    })
    .optional()?
    .transpose()
}
