//! The HTTP API (axum): ingest, reads for customers and billing, admin.
//!
//! Every request carries `Authorization: Bearer <token>`; an account sees and spends only its
//! own data (another account's ids answer 404), the admin token sees everything. Errors are
//! JSON `{"error": {"code": "...", "message": "...", "field": "..."}}`.

mod admin;
mod audio;
mod campaigns;
mod error;
mod insights;
mod read;
mod sms;

pub use error::ApiError;
pub use insights::build_report;

use crate::app::App;
use crate::auth::Caller;
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use sendbox_dispatch::TrafficClass;
use std::sync::Arc;

/// The API's routes over `app`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(admin::healthz))
        .route("/readyz", get(admin::readyz))
        .route("/v1/sms", post(sms::post_sms))
        .route("/v1/campaigns", post(campaigns::post_campaign))
        .route("/v1/campaigns/{id}", get(read::get_campaign))
        .route("/v1/dispatches/{id}", get(read::get_dispatch))
        .route("/v1/receipts", get(read::get_receipts))
        .route("/v1/history", get(read::get_history))
        .route("/v1/audio", post(audio::post_audio))
        .route("/v1/audio/{id}", get(audio::get_audio))
        .route("/v1/admin/accounts/{id}/topup", post(admin::topup))
        .route("/v1/admin/accounts/{id}", get(admin::account))
        .route("/v1/admin/blacklist/reload", post(admin::reload_blacklist))
        .route("/v1/admin/reload", post(admin::reload))
        .route("/v1/admin/stats", get(admin::stats))
        .route("/v1/admin/stats/reset", post(admin::reset_latencies))
        .route("/v1/validate", post(insights::post_validate))
        .route("/v1/scores", get(insights::get_scores))
        .route("/v1/campaigns/{id}/report", get(insights::get_report))
        .route("/v1/admin/scores/retrain", post(insights::retrain))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024 * 1024))
        .with_state(app)
}

/// The caller of a request, from its bearer token.
pub fn caller(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    app.tokens.caller(auth).ok_or_else(|| {
        ApiError::unauthorized(if auth.is_none() {
            "missing Authorization: Bearer <token>"
        } else {
            "unknown token"
        })
    })
}

/// The caller, who must be an account.
pub fn account_caller(app: &App, headers: &HeaderMap) -> Result<u32, ApiError> {
    match caller(app, headers)? {
        Caller::Account(a) => Ok(a),
        Caller::Admin => Err(ApiError::forbidden(
            "the admin token cannot send; use an account's token",
        )),
    }
}

/// The caller, who must be the admin.
pub fn admin_caller(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    match caller(app, headers)? {
        Caller::Admin => Ok(()),
        Caller::Account(_) => Err(ApiError::forbidden("this needs the admin token")),
    }
}

/// The config's class as the dispatch model's.
pub fn class_of(c: sendbox_config::Class) -> TrafficClass {
    match c {
        sendbox_config::Class::Marketing => TrafficClass::Marketing,
        sendbox_config::Class::Otp => TrafficClass::Otp,
        _ => TrafficClass::Service,
    }
}

/// Parse a traffic class name.
pub fn parse_class(s: &str) -> Option<TrafficClass> {
    match s {
        "service" => Some(TrafficClass::Service),
        "marketing" => Some(TrafficClass::Marketing),
        "otp" => Some(TrafficClass::Otp),
        _ => None,
    }
}
