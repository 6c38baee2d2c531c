//! Reads: a dispatch, a campaign's counts, the billing feed, the compliance history.

use super::{ApiError, caller};
use crate::app::App;
use crate::auth::Caller;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use sendbox_store::{DispatchView, HistoryRow, StoredReceipt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// The account id a caller may see (`None`: the admin sees all).
fn scope(app: &App, c: Caller) -> Option<String> {
    match c {
        Caller::Account(a) => Some(
            app.accounts
                .get(a as usize)
                .map_or_else(String::new, |i| i.id.clone()),
        ),
        Caller::Admin => None,
    }
}

fn parse_id(s: &str, what: &str) -> Result<u64, ApiError> {
    s.parse().map_err(|_| {
        ApiError::field(
            "bad_id",
            what.to_owned(),
            format!("{what} must be a decimal id"),
        )
    })
}

pub(super) async fn get_dispatch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let who = scope(&app, caller(&app, &headers)?);
    let id = parse_id(&id, "id")?;
    let view = app
        .store
        .dispatch(id)
        .await?
        .filter(|v| who.as_deref().is_none_or(|a| a == &*v.row.account))
        .ok_or_else(|| ApiError::not_found("dispatch"))?;
    Ok(Json(dispatch_json(&view)))
}

fn dispatch_json(v: &DispatchView) -> Value {
    json!({
        "id": v.row.id.to_string(),
        "account": v.row.account,
        "campaign": v.row.campaign.map(|c| c.to_string()),
        "channel": v.row.channel.as_str(),
        "class": v.row.class.as_str(),
        "msisdn": v.row.msisdn.to_string(),
        "operator": v.row.operator,
        "sender": v.row.sender,
        "segments": v.row.segments,
        "state": v.row.state.as_str(),
        "state_at": v.state_at.to_string(),
        "accepted_at": v.row.accepted_at.to_string(),
        "not_before": v.row.not_before.map(|t| t.to_string()),
        "handoff": v.handoff.as_ref().map(|h| json!({
            "at": h.at_utc.to_string(),
            "at_local": h.at_local,
            "operator_ref": h.operator_ref,
            "units": h.units,
            "cost_tiyn": h.cost_tiyn,
        })),
        "receipt": v.receipt.as_ref().map(receipt_json),
    })
}

/// A receipt as the billing system reads it.
pub fn receipt_json(r: &StoredReceipt) -> Value {
    let x = &r.receipt;
    json!({
        "seq": r.seq,
        "dispatch_id": x.dispatch_id.to_string(),
        "account": x.account,
        "campaign": x.campaign.map(|c| c.to_string()),
        "operator": x.operator,
        "channel": x.channel.as_str(),
        "msisdn": x.msisdn.to_string(),
        "state": x.state.as_str(),
        "error": x.error,
        "segments": x.segments,
        "billable_seconds": x.billable_seconds,
        "cost_tiyn": x.cost_tiyn,
        "accepted_at": x.accepted_at.to_string(),
        "handed_off_at": x.handed_off_at_utc.map(|t| t.to_string()),
        "handed_off_local": x.handed_off_local,
        "final_at": x.final_at_utc.to_string(),
        "final_local": x.final_local,
        "inside_window": x.inside_window,
        "attempt": x.attempt,
        "call": x.call,
    })
}

pub(super) async fn get_campaign(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let who = scope(&app, caller(&app, &headers)?);
    let id = parse_id(&id, "id")?;
    let row = app
        .store
        .campaign(id)
        .await?
        .filter(|c| who.as_ref().is_none_or(|a| *a == c.account))
        .ok_or_else(|| ApiError::not_found("campaign"))?;
    let counts = app.store.campaign_counts(id).await?;
    let by_state: serde_json::Map<String, Value> = counts
        .into_iter()
        .map(|c| (c.state, json!(c.count)))
        .collect();
    Ok(Json(json!({
        "id": row.id.to_string(),
        "account": row.account,
        "channel": row.channel.as_str(),
        "created_at": row.created_at.to_string(),
        "total": row.total,
        "states": by_state,
    })))
}

#[derive(Debug, Deserialize)]
pub(super) struct ReceiptsQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    1000
}

#[derive(Debug, Serialize)]
pub(super) struct ReceiptsAnswer {
    receipts: Vec<Value>,
    next_cursor: i64,
}

pub(super) async fn get_receipts(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<ReceiptsQuery>,
) -> Result<Json<ReceiptsAnswer>, ApiError> {
    let who = scope(&app, caller(&app, &headers)?);
    if q.limit == 0 || q.limit > 10_000 {
        return Err(ApiError::field(
            "bad_limit",
            "limit",
            "limit must be 1..=10000",
        ));
    }
    let page = app
        .store
        .receipts_after(q.after, q.limit, who.as_deref())
        .await?;
    Ok(Json(ReceiptsAnswer {
        receipts: page.receipts.iter().map(receipt_json).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct HistoryQuery {
    msisdn: String,
}

pub(super) async fn get_history(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let who = scope(&app, caller(&app, &headers)?);
    let m = sendbox_policy::number::parse(&q.msisdn).map_err(|e| {
        ApiError::field(e.code(), "msisdn", format!("not a Kazakhstan number: {e}"))
    })?;
    let rows = app.store.history(m.get(), who.as_deref()).await?;
    Ok(Json(json!({
        "msisdn": m.get().to_string(),
        "dispatches": rows.iter().map(history_json).collect::<Vec<_>>(),
    })))
}

fn history_json(h: &HistoryRow) -> Value {
    json!({
        "dispatch_id": h.dispatch_id.to_string(),
        "account": h.account,
        "campaign": h.campaign.map(|c| c.to_string()),
        "channel": h.channel.as_str(),
        "class": h.class.as_str(),
        "operator": h.operator,
        "sender": h.sender,
        "content": h.content_ref,
        "accepted_at": h.accepted_at.to_string(),
        "accepted_local": h.accepted_local,
        "handed_off_at": h.handed_off_at.map(|t| t.to_string()),
        "handed_off_local": h.handed_off_local,
        "final_at": h.final_at.map(|t| t.to_string()),
        "final_local": h.final_local,
        "result": h.result,
        "error": h.error,
        "inside_window": h.inside_window,
    })
}
