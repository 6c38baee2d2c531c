//! `POST /v1/validate`, `GET /v1/scores`, `GET /v1/campaigns/{id}/report`,
//! `POST /v1/admin/scores/retrain`.

use super::{ApiError, account_caller, admin_caller, caller};
use crate::app::App;
use crate::auth::Caller;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use sendbox_analytics::report::{CampaignReport, load_campaign, recipients_csv};
use sendbox_analytics::score::Scorer;
use sendbox_analytics::validate::Validator;
use sendbox_dispatch::AccountId;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Deserialize, Default)]
pub(super) struct FormatQuery {
    #[serde(default)]
    format: Option<String>,
}

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::unavailable(e.to_string())
}

pub(super) async fn post_validate(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<FormatQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let account = account_caller(&app, &headers)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let csv_out = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::field(
                "bad_format",
                "format",
                format!("unknown format {other:?}; expected json or csv"),
            ));
        }
    };
    let insights = app.insights.get(&app.store).await.map_err(unavailable)?;
    let tables = app.core.tables.load_full();
    let blacklists = app.blacklists.snapshot();
    let account_name = app.accounts[account as usize].id.clone();
    let out = tokio::task::spawn_blocking(move || -> Result<(Value, Option<Vec<u8>>), ApiError> {
        let operators: Vec<String> = tables.operators.iter().map(|o| o.to_string()).collect();
        let v = Validator::new(&tables.router, &operators, &blacklists, AccountId(account))
            .with_history(&insights.history, Some(&account_name));
        let input: Box<dyn std::io::Read> = if is_json {
            let numbers = sendbox_analytics::input::json_numbers(&body)
                .map_err(|e| ApiError::bad_request("bad_json", e.to_string()))?;
            Box::new(std::io::Cursor::new(numbers.join("\n").into_bytes()))
        } else {
            Box::new(std::io::Cursor::new(body))
        };
        let (summary, csv) = sendbox_analytics::input::validate_stream(&v, input, Some(Vec::new()))
            .map_err(|e| ApiError::bad_request("bad_upload", e.to_string()))?;
        Ok((serde_json::to_value(&summary).unwrap_or(Value::Null), csv))
    })
    .await
    .map_err(unavailable)??;
    let (summary, csv) = out;
    if csv_out {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv.unwrap_or_default(),
        )
            .into_response());
    }
    Ok(
        Json(json!({"summary": summary, "results_csv": "repeat the request with ?format=csv"}))
            .into_response(),
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct ScoresQuery {
    #[serde(default)]
    msisdn: Option<String>,
    #[serde(default)]
    campaign: Option<String>,
}

pub(super) async fn get_scores(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<ScoresQuery>,
) -> Result<Json<Value>, ApiError> {
    let account = account_caller(&app, &headers)?;
    let account_name = app.accounts[account as usize].id.clone();
    let insights = app.insights.get(&app.store).await.map_err(unavailable)?;
    let now = jiff::Timestamp::now().as_second();
    let scorer = Scorer::for_account(&insights.history, &insights.models, &account_name, now)
        .ok_or_else(|| {
            ApiError::unavailable("no model yet: there is not enough history to learn from")
        })?;
    match (q.msisdn, q.campaign) {
        (Some(m), None) => {
            let m = sendbox_policy::number::parse(&m).map_err(|e| {
                ApiError::field(e.code(), "msisdn", format!("not a Kazakhstan number: {e}"))
            })?;
            Ok(Json(
                serde_json::to_value(scorer.score(m.get())).unwrap_or(Value::Null),
            ))
        }
        (None, Some(c)) => {
            let id: u64 = c
                .parse()
                .map_err(|_| ApiError::field("bad_id", "campaign", "a decimal id"))?;
            let data = load_campaign(app.store.as_ref(), id)
                .await
                .map_err(unavailable)?
                .filter(|d| campaign_account(d) == Some(account_name.as_str()))
                .ok_or_else(|| ApiError::not_found("campaign"))?;
            let recipients = data.recipients();
            let scores = scorer.score_values(&recipients);
            let rows: Vec<Value> = recipients
                .iter()
                .zip(&scores)
                .map(|(m, s)| json!({"msisdn": m.to_string(), "score": s}))
                .collect();
            Ok(Json(json!({
                "campaign": id.to_string(),
                "model_version": scorer.model().version,
                "scores": rows,
            })))
        }
        _ => Err(ApiError::bad_request(
            "bad_query",
            "give msisdn=... or campaign=...",
        )),
    }
}

pub(super) async fn get_report(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let who = caller(&app, &headers)?;
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::field("bad_id", "id", "a decimal id"))?;
    let data = load_campaign(app.store.as_ref(), id)
        .await
        .map_err(unavailable)?
        .filter(|d| match who {
            Caller::Admin => true,
            Caller::Account(a) => campaign_account(d) == Some(app.accounts[a as usize].id.as_str()),
        })
        .ok_or_else(|| ApiError::not_found("campaign"))?;
    let report = build_report(&app, &data).await;
    match q.format.as_deref() {
        None | Some("json") => Ok((
            [(header::CONTENT_TYPE, "application/json")],
            report.0.to_json(),
        )
            .into_response()),
        Some("html") => Ok((
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            sendbox_analytics::html::render(&report.0),
        )
            .into_response()),
        Some("csv") => {
            let csv = recipients_csv(&data, &report.1, Vec::new()).map_err(unavailable)?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
        }
        Some(other) => Err(ApiError::field(
            "bad_format",
            "format",
            format!("unknown format {other:?}; expected json, csv or html"),
        )),
    }
}

/// A campaign's report with its recipients' scores (when a model exists).
pub async fn build_report(
    app: &App,
    data: &sendbox_analytics::report::CampaignData,
) -> (CampaignReport, HashMap<u64, u8>) {
    let mut by_number = HashMap::new();
    let mut scores = None;
    let mut validation = None;
    if let (Ok(insights), Some(account)) =
        (app.insights.get(&app.store).await, campaign_account(data))
    {
        // The validation distribution of the campaign's recipients, as they stand now.
        if let Some(idx) = app.accounts.iter().position(|a| a.id == account) {
            let tables = app.core.tables.load();
            let blacklists = app.blacklists.snapshot();
            let operators: Vec<String> = tables.operators.iter().map(|o| o.to_string()).collect();
            let v = Validator::new(
                &tables.router,
                &operators,
                &blacklists,
                AccountId(idx as u32),
            )
            .with_history(&insights.history, Some(account));
            let numbers: Vec<String> = data.recipients().iter().map(u64::to_string).collect();
            let mut run = sendbox_analytics::validate::Run::new(&v);
            run.push_numbers(numbers.iter().map(String::as_str), &mut |_| {});
            validation = Some(run.finish(&mut |_| {}));
        }
        let now = jiff::Timestamp::now().as_second();
        if let Some(scorer) = Scorer::for_account(&insights.history, &insights.models, account, now)
        {
            let recipients = data.recipients();
            let s = scorer.score_values(&recipients);
            by_number = recipients.iter().copied().zip(s.iter().copied()).collect();
            scores = Some(s);
        }
    }
    (
        CampaignReport::build(data, validation, scores.as_deref()),
        by_number,
    )
}

pub(super) async fn retrain(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    admin_caller(&app, &headers)?;
    let i = app
        .insights
        .rebuild(&app.store)
        .await
        .map_err(unavailable)?;
    Ok(Json(json!({
        "numbers": i.history.len(),
        "built_at": i.built_at.to_string(),
        "account_models": i.models.accounts.len(),
        "global_model": i.models.global.is_some(),
    })))
}

fn campaign_account(d: &sendbox_analytics::report::CampaignData) -> Option<&str> {
    d.campaign.as_ref().map(|c| c.account.as_str())
}
