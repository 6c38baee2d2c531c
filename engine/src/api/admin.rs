//! Health, readiness and the operations endpoints: top-ups, reloads, statistics.

use super::{ApiError, admin_caller, caller};
use crate::app::App;
use crate::auth::Caller;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use sendbox_dispatch::AccountId;
use sendbox_store::{LedgerKind, LedgerRow, WriteOp};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

pub(super) async fn readyz(State(app): State<Arc<App>>) -> (StatusCode, Json<Value>) {
    let store_ok = app.store.ping().await.is_ok();
    let links_ok = app.links.ready();
    let status = if store_ok && links_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let binds: Vec<Value> = app
        .links
        .binds_up()
        .into_iter()
        .map(|(op, up, total)| json!({"operator": op, "binds_up": up, "binds": total}))
        .collect();
    (
        status,
        Json(json!({"store": store_ok, "links": links_ok, "operators": binds})),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Topup {
    amount_tiyn: i64,
}

pub(super) async fn topup(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Topup>,
) -> Result<Json<Value>, ApiError> {
    admin_caller(&app, &headers)?;
    let idx = app
        .accounts
        .iter()
        .position(|a| a.id == id)
        .ok_or_else(|| ApiError::not_found("account"))?;
    if body.amount_tiyn <= 0 {
        return Err(ApiError::field(
            "bad_amount",
            "amount_tiyn",
            "a top-up is a positive number of tiyn",
        ));
    }
    let account = AccountId(idx as u32);
    let now = app.core.clock.now();
    app.store
        .write(vec![WriteOp::Ledger(LedgerRow {
            dispatch_id: None,
            account: id.as_str().into(),
            kind: LedgerKind::Topup,
            attempt: 0,
            amount_tiyn: body.amount_tiyn,
            at: now,
        })])
        .await?;
    let available = app
        .core
        .wallets
        .topup(account, body.amount_tiyn)
        .map_err(|e| ApiError::bad_request("bad_amount", e.to_string()))?;
    app.core.resume_account(account.0);
    Ok(Json(json!({"account": id, "available_tiyn": available})))
}

pub(super) async fn account(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = caller(&app, &headers)?;
    let idx = app
        .accounts
        .iter()
        .position(|a| a.id == id)
        .ok_or_else(|| ApiError::not_found("account"))?;
    if let Caller::Account(a) = c
        && a as usize != idx
    {
        return Err(ApiError::not_found("account"));
    }
    let w = app
        .core
        .wallets
        .snapshot(AccountId(idx as u32))
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok(Json(json!({
        "account": id,
        "available_tiyn": w.available,
        "reserved_tiyn": w.reserved,
        "spent_tiyn": w.spent,
        "state": if w.paused { "insufficient_funds" } else { "active" },
        "waiting_for_funds": app.core.paused_len(idx as u32),
    })))
}

pub(super) async fn reload_blacklist(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    admin_caller(&app, &headers)?;
    let report = crate::daemon::reload_blacklists(&app).map_err(|e| {
        ApiError::unprocessable(
            "reload_failed",
            format!("{e:#}; the old lists stay in force"),
        )
    })?;
    Ok(Json(report))
}

pub(super) async fn reload(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    admin_caller(&app, &headers)?;
    let report = crate::daemon::reload(&app).map_err(|e| {
        ApiError::unprocessable(
            "reload_failed",
            format!("{e:#}; the old configuration stays in force"),
        )
    })?;
    Ok(Json(report))
}

/// `POST /v1/admin/stats/reset`: start the latency percentiles afresh (SMPP submit→response,
/// accept→handoff, handoff→final); counters are kept. Load tests call it after their warm-up,
/// so the figures describe the sustained load, not the start-up.
pub(super) async fn reset_latencies(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    admin_caller(&app, &headers)?;
    crate::daemon::reset_latencies(&app);
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn stats(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    admin_caller(&app, &headers)?;
    Ok(Json(crate::daemon::stats_json(&app)))
}
