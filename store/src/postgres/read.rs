//! PostgreSQL queries behind the [`crate::Store`] read methods.

use super::types::Ts;
use crate::StoreError;
use crate::model::*;
use crate::sql::{self, DISPATCH_COLS, DISPATCH_FROM, Dialect};
use crate::time::almaty_local;
use crate::validate as v;
use deadpool_postgres::Client;
use tokio_postgres::Row;

const RECEIPT_COLS: &str = sql::receipt_cols(Dialect::Postgres);
/// Feedback to a campaign's dispatches: those stored, and those known only by their receipt.
const CAMPAIGN_FEEDBACK: &str = "dispatch_id IN (SELECT id FROM dispatches WHERE campaign = $1
    UNION SELECT dispatch_id FROM receipts WHERE campaign = $1)";

fn ts(r: &Row, i: usize) -> Result<jiff::Timestamp, StoreError> {
    r.try_get::<_, Ts>(i)?.get()
}

fn opt_ts(r: &Row, i: usize) -> Result<Option<jiff::Timestamp>, StoreError> {
    r.try_get::<_, Option<Ts>>(i)?.map(Ts::get).transpose()
}

fn opt_u64(r: &Row, i: usize, what: &str) -> Result<Option<u64>, StoreError> {
    r.try_get::<_, Option<i64>>(i)?
        .map(|x| v::unsigned(what, x))
        .transpose()
}

fn receipt(r: &Row) -> Result<StoredReceipt, StoreError> {
    Ok(StoredReceipt {
        seq: r.try_get(0)?,
        receipt: ReceiptRow {
            dispatch_id: v::unsigned("dispatch id", r.try_get(1)?)?,
            account: r.try_get::<_, String>(2)?.into(),
            campaign: opt_u64(r, 3, "campaign")?,
            operator: r.try_get::<_, String>(4)?.into(),
            channel: v::channel(r.try_get(5)?)?,
            msisdn: v::unsigned("msisdn", r.try_get(6)?)?,
            state: v::final_state(r.try_get(7)?)?,
            error: r.try_get(8)?,
            segments: v::small("segments", i64::from(r.try_get::<_, i32>(9)?))?,
            billable_seconds: v::small("billable seconds", i64::from(r.try_get::<_, i32>(10)?))?,
            cost_tiyn: r.try_get(11)?,
            accepted_at: ts(r, 12)?,
            handed_off_at_utc: opt_ts(r, 13)?,
            handed_off_local: v::opt_local_time(r.try_get(14)?)?,
            final_at_utc: ts(r, 15)?,
            final_local: v::local_time(r.try_get(16)?)?,
            inside_window: r.try_get(17)?,
            call: v::call_detail(r.try_get(18)?)?,
            attempt: v::small("attempt", i64::from(r.try_get::<_, i32>(19)?))?,
        },
    })
}

fn dispatch(r: &Row) -> Result<(DispatchRow, jiff::Timestamp, Option<Handoff>), StoreError> {
    let row = DispatchRow {
        id: v::unsigned("dispatch id", r.try_get(0)?)?,
        account: r.try_get::<_, String>(1)?.into(),
        campaign: opt_u64(r, 2, "campaign")?,
        channel: v::channel(r.try_get(3)?)?,
        class: v::class(r.try_get(4)?)?,
        msisdn: v::unsigned("msisdn", r.try_get(5)?)?,
        operator: r.try_get::<_, String>(6)?.into(),
        content_ref: r.try_get(7)?,
        sender: r.try_get(8)?,
        segments: v::small("segments", i64::from(r.try_get::<_, i32>(9)?))?,
        reserved_tiyn: r.try_get(10)?,
        accepted_at: ts(r, 11)?,
        not_before: opt_ts(r, 12)?,
        state: v::dispatch_state(r.try_get(13)?)?,
    };
    let handoff = match opt_ts(r, 15)? {
        Some(at_utc) => Some(Handoff {
            at_utc,
            at_local: v::opt_local_time(r.try_get(16)?)?.unwrap_or_default(),
            operator_ref: r.try_get::<_, Option<String>>(17)?.unwrap_or_default(),
            units: v::small(
                "units",
                i64::from(r.try_get::<_, Option<i32>>(18)?.unwrap_or(0)),
            )?,
            cost_tiyn: r.try_get::<_, Option<i64>>(19)?.unwrap_or(0),
        }),
        None => None,
    };
    // A handoff older than the dispatch's state is over (a late report of an ended attempt).
    let handoff = handoff.filter(|_| row.state == DispatchState::HandedOff);
    Ok((row, ts(r, 14)?, handoff))
}

async fn query(
    c: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Row>, StoreError> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.query(&st, params).await?)
}

pub(crate) async fn receipts_after(
    c: &Client,
    cursor: i64,
    limit: u32,
    account: Option<&str>,
) -> Result<ReceiptPage, StoreError> {
    match account {
        Some(a) => receipts_where(c, "account", &a, cursor, limit).await,
        None => {
            let sql =
                format!("SELECT {RECEIPT_COLS} FROM receipts WHERE seq > $1 ORDER BY seq LIMIT $2");
            let rows = query(c, &sql, &[&cursor, &i64::from(limit)]).await?;
            let receipts = rows.iter().map(receipt).collect::<Result<Vec<_>, _>>()?;
            Ok(ReceiptPage::after(cursor, receipts))
        }
    }
}

pub(crate) async fn campaign_receipts(
    c: &Client,
    campaign: u64,
    cursor: i64,
    limit: u32,
) -> Result<ReceiptPage, StoreError> {
    match i64::try_from(campaign) {
        Ok(id) => receipts_where(c, "campaign", &id, cursor, limit).await,
        Err(_) => Ok(ReceiptPage::after(cursor, Vec::new())),
    }
}

/// The page of receipts whose `column` (indexed with `seq`) equals `key`.
async fn receipts_where(
    c: &Client,
    column: &str,
    key: &(dyn tokio_postgres::types::ToSql + Sync),
    cursor: i64,
    limit: u32,
) -> Result<ReceiptPage, StoreError> {
    let sql = format!(
        "SELECT {RECEIPT_COLS} FROM receipts WHERE {column} = $1 AND seq > $2
         ORDER BY seq LIMIT $3"
    );
    let rows = query(c, &sql, &[key, &cursor, &i64::from(limit)]).await?;
    let receipts = rows.iter().map(receipt).collect::<Result<Vec<_>, _>>()?;
    Ok(ReceiptPage::after(cursor, receipts))
}

pub(crate) async fn dispatch_view(c: &Client, id: u64) -> Result<Option<DispatchView>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let sql = format!("SELECT {DISPATCH_COLS} FROM {DISPATCH_FROM} WHERE d.id = $1");
    let Some(r) = query(c, &sql, &[&id]).await?.into_iter().next() else {
        return Ok(None);
    };
    let (mut row, mut state_at, handoff) = dispatch(&r)?;
    let sql = format!("SELECT {RECEIPT_COLS} FROM receipts WHERE dispatch_id = $1");
    let receipt = query(c, &sql, &[&id])
        .await?
        .first()
        .map(receipt)
        .transpose()?;
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

pub(crate) async fn campaign(c: &Client, id: u64) -> Result<Option<CampaignRow>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let rows = query(
        c,
        "SELECT id, account, channel, created_at, total FROM campaigns WHERE id = $1",
        &[&id],
    )
    .await?;
    rows.first()
        .map(|r| {
            Ok(CampaignRow {
                id: v::unsigned("campaign", r.try_get(0)?)?,
                account: r.try_get(1)?,
                channel: v::channel(r.try_get(2)?)?,
                created_at: ts(r, 3)?,
                total: v::unsigned("total", r.try_get(4)?)?,
            })
        })
        .transpose()
}

pub(crate) async fn campaign_counts(
    c: &Client,
    campaign: u64,
) -> Result<Vec<StateCount>, StoreError> {
    let rows = query(
        c,
        &sql::campaign_counts(Dialect::Postgres),
        &[&(campaign as i64)],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StateCount {
                state: r.try_get(0)?,
                count: v::unsigned("count", r.try_get(1)?)?,
            })
        })
        .collect()
}

pub(crate) async fn history(
    c: &Client,
    msisdn: u64,
    account: Option<&str>,
) -> Result<Vec<HistoryRow>, StoreError> {
    let rows = query(
        c,
        &sql::history(Dialect::Postgres),
        &[&(msisdn as i64), &account],
    )
    .await?;
    rows.iter()
        .map(|r| {
            let accepted_at = ts(r, 8)?;
            Ok(HistoryRow {
                dispatch_id: v::unsigned("dispatch id", r.try_get(0)?)?,
                account: r.try_get(1)?,
                campaign: opt_u64(r, 2, "campaign")?,
                channel: v::channel(r.try_get(3)?)?,
                class: v::class(r.try_get(4)?)?,
                operator: r.try_get(5)?,
                sender: r.try_get(6)?,
                content_ref: r.try_get(7)?,
                accepted_at,
                accepted_local: almaty_local(accepted_at),
                handed_off_at: opt_ts(r, 9)?,
                handed_off_local: r.try_get(10)?,
                final_at: opt_ts(r, 11)?,
                final_local: r.try_get(12)?,
                result: r.try_get(13)?,
                error: r.try_get(14)?,
                inside_window: r.try_get(15)?,
            })
        })
        .collect()
}

pub(crate) async fn unfinished(c: &Client) -> Result<Vec<Unfinished>, StoreError> {
    query(c, &sql::unfinished(Dialect::Postgres), &[])
        .await?
        .iter()
        .map(|r| {
            let (row, _, handoff) = dispatch(r)?;
            let billed = BilledSoFar {
                attempts: v::small("attempt", r.try_get::<_, i64>(sql::DISPATCH_NCOLS + 1)?)?,
                debited_tiyn: r.try_get(sql::DISPATCH_NCOLS)?,
            };
            Ok(Unfinished::new(row, handoff, billed))
        })
        .collect()
}

pub(crate) async fn balances(c: &Client) -> Result<Vec<Balance>, StoreError> {
    let rows = query(
        c,
        "SELECT account, SUM(amount_tiyn)::int8 FROM ledger GROUP BY account ORDER BY account",
        &[],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Balance {
                account: r.try_get(0)?,
                ledger_sum_tiyn: r.try_get(1)?,
            })
        })
        .collect()
}

pub(crate) async fn last_dispatch_to(
    c: &Client,
    account: Option<&str>,
    msisdn: u64,
) -> Result<Option<(u64, String)>, StoreError> {
    let rows = query(
        c,
        "SELECT id, account FROM dispatches
         WHERE msisdn = $1 AND ($2::text IS NULL OR account = $2)
         ORDER BY accepted_at DESC, id DESC LIMIT 1",
        &[&(msisdn as i64), &account],
    )
    .await?;
    rows.first()
        .map(|r| Ok((v::unsigned("dispatch id", r.try_get(0)?)?, r.try_get(1)?)))
        .transpose()
}

pub(crate) async fn feedback_for(
    c: &Client,
    key: FeedbackKey,
) -> Result<Vec<StoredFeedback>, StoreError> {
    let (cond, arg, limit) = match key {
        FeedbackKey::Dispatch(d) => ("dispatch_id = $1", d as i64, String::new()),
        FeedbackKey::Msisdn(m) => ("msisdn = $1", m as i64, String::new()),
        FeedbackKey::Campaign(c) => (CAMPAIGN_FEEDBACK, c as i64, String::new()),
        FeedbackKey::After { after, limit } => ("seq > $1", after, format!(" LIMIT {limit}")),
    };
    let sql = format!(
        "SELECT seq, account, msisdn, dispatch_id, kind, body, at FROM feedback
         WHERE {cond} ORDER BY seq{limit}"
    );
    query(c, &sql, &[&arg])
        .await?
        .iter()
        .map(|r| {
            let kind: &str = r.try_get(4)?;
            Ok(StoredFeedback {
                seq: r.try_get(0)?,
                feedback: FeedbackRow {
                    account: r.try_get(1)?,
                    msisdn: v::unsigned("msisdn", r.try_get(2)?)?,
                    dispatch_id: opt_u64(r, 3, "dispatch id")?,
                    kind: FeedbackKind::parse(kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("feedback kind {kind:?}")))?,
                    body: r.try_get(5)?,
                    at: ts(r, 6)?,
                },
            })
        })
        .collect()
}

pub(crate) async fn audio_get(c: &Client, id: &str) -> Result<Option<AudioRow>, StoreError> {
    let rows = query(
        c,
        "SELECT id, metadata::text, alaw, created_at FROM audio WHERE id = $1",
        &[&id],
    )
    .await?;
    rows.first()
        .map(|r| {
            let meta: &str = r.try_get(1)?;
            Ok(AudioRow {
                id: r.try_get(0)?,
                metadata: serde_json::from_str(meta)
                    .map_err(|e| StoreError::Corrupt(format!("audio metadata: {e}")))?,
                alaw: r.try_get(2)?,
                created_at: ts(r, 3)?,
            })
        })
        .transpose()
}
