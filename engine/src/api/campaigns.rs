//! `POST /v1/campaigns`: one content to many recipients.
//!
//! JSON:
//! ```text
//! {"channel": "sms", "text": "...", "sender": "SHOP", "class": "marketing",
//!  "start_at": "2026-11-26T04:00:00Z", "recipients": ["+77011234567", ...]}
//! {"channel": "voice", "audio_id": "...", "repeat": 2, "recipients_csv": "phone\n87011234567\n"}
//! ```
//! `"skip_unreachable": true` refuses numbers that failed permanently again and again in the
//! account's history (reason `unreachable`), saving the customer the money.
//!
//! or a CSV body (`Content-Type: text/csv`, the number in the first column, an optional header)
//! with the other fields as query parameters. Recipients are deduplicated by normalised number
//! only at the policy stage (each row is a dispatch the customer asked for).

use super::sms::check_sender;
use super::{ApiError, account_caller, parse_class};
use crate::app::App;
use crate::ingest::{self, AcceptError, Batch, Row, Totals};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sendbox_codecs::sms::{Concat, count_segments};
use sendbox_dispatch::{
    AccountId, CampaignId, Channel, Content, SmsContent, TrafficClass, VoiceContent,
};
use sendbox_store::{CampaignRow, WriteOp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Rows admitted per store write, so a million-row campaign streams rather than holds.
const CHUNK: usize = 20_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CampaignSpec {
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    sender: Option<String>,
    #[serde(default)]
    audio_id: Option<String>,
    #[serde(default)]
    repeat: Option<u8>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    start_at: Option<String>,
    #[serde(default)]
    recipients: Option<Vec<String>>,
    #[serde(default)]
    recipients_csv: Option<String>,
    /// Refuse numbers our history shows failing permanently again and again.
    #[serde(default)]
    skip_unreachable: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Answer {
    campaign_id: String,
    total: usize,
    #[serde(flatten)]
    totals: Totals,
    /// The first refused rows with their reasons (at most 1000).
    refused_rows: Vec<ingest::RowResult>,
}

pub(super) async fn post_campaign(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let account = account_caller(&app, &headers)?;
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let (spec, recipients) = if is_csv {
        let spec = spec_from_query(&query)?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::field("bad_csv", "body", "the CSV is not UTF-8"))?;
        (spec, csv_numbers(text))
    } else {
        let mut spec: CampaignSpec = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request("bad_json", format!("the body is not a campaign: {e}"))
        })?;
        let mut recipients = spec.recipients.take().unwrap_or_default();
        if let Some(csv) = spec.recipients_csv.take() {
            recipients.extend(csv_numbers(&csv));
        }
        (spec, recipients)
    };
    if recipients.is_empty() {
        return Err(ApiError::field(
            "empty",
            "recipients",
            "the campaign has no recipients",
        ));
    }
    let info = app
        .account(AccountId(account))
        .ok_or_else(|| ApiError::forbidden("unknown account"))?
        .clone();
    let class = match spec.class.as_deref() {
        None => TrafficClass::Service,
        Some(c) => parse_class(c).ok_or_else(|| {
            ApiError::field(
                "bad_class",
                "class",
                format!("unknown class {c:?}; expected service, marketing or otp"),
            )
        })?,
    };
    if let Some(allowed) = &info.classes
        && !allowed.contains(&class)
    {
        return Err(ApiError::field(
            "class_not_allowed",
            "class",
            format!("this account may not send {} traffic", class.as_str()),
        ));
    }
    let start_at = match spec.start_at.as_deref() {
        None => None,
        Some(s) => Some(s.parse::<jiff::Timestamp>().map_err(|e| {
            ApiError::field(
                "bad_time",
                "start_at",
                format!("not an RFC 3339 time with offset: {e}"),
            )
        })?),
    };
    let content = Arc::new(build_content(&app, &spec, &info).await?);
    let skip_unreachable = if spec.skip_unreachable == Some(true) {
        Some(
            app.insights
                .get(&app.store)
                .await
                .map_err(|e| ApiError::unavailable(format!("history: {e:#}")))?,
        )
    } else {
        None
    };
    let channel = content.channel();
    let campaign = CampaignId(app.ids.next());
    let now = app.core.clock.now();
    app.store
        .write(vec![WriteOp::Campaign(CampaignRow {
            id: campaign.0,
            account: info.id.clone(),
            channel,
            created_at: now,
            total: recipients.len() as u64,
        })])
        .await?;
    let total = recipients.len();
    let mut totals = Totals::default();
    let mut refused_rows = Vec::new();
    let mut index = 0;
    let mut iter = recipients.into_iter();
    loop {
        let rows: Vec<_> = iter
            .by_ref()
            .take(CHUNK)
            .map(|to| {
                let r = (Row { to, index }, content.clone());
                index += 1;
                r
            })
            .collect();
        if rows.is_empty() {
            break;
        }
        let batch = Batch {
            account: AccountId(account),
            class,
            campaign: Some(campaign),
            not_before: start_at,
            rows,
            skip_unreachable: skip_unreachable.clone(),
        };
        match ingest::accept_campaign_chunk(&app, batch).await {
            Ok((results, t)) => {
                totals.queued += t.queued;
                totals.deferred += t.deferred;
                totals.insufficient_funds += t.insufficient_funds;
                totals.refused += t.refused;
                refused_rows.extend(
                    results
                        .into_iter()
                        .filter(|r| r.status == "refused")
                        .take(1000usize.saturating_sub(refused_rows.len())),
                );
            }
            Err(AcceptError::Backpressure(b)) => return Err(ApiError::busy(b.retry_after_s)),
            Err(AcceptError::Store(e)) => return Err(ApiError::unavailable(format!("store: {e}"))),
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Answer {
            campaign_id: campaign.to_string(),
            total,
            totals,
            refused_rows,
        }),
    )
        .into_response())
}

async fn build_content(
    app: &App,
    spec: &CampaignSpec,
    info: &crate::app::AccountInfo,
) -> Result<Content, ApiError> {
    let channel = match spec.channel.as_deref() {
        None | Some("sms") => Channel::Sms,
        Some("voice") => Channel::Voice,
        Some(other) => {
            return Err(ApiError::field(
                "bad_channel",
                "channel",
                format!("unknown channel {other:?}; expected sms or voice"),
            ));
        }
    };
    match channel {
        Channel::Sms => {
            let text = spec.text.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
                ApiError::field("missing", "text", "an SMS campaign needs a text")
            })?;
            let sender = check_sender(spec.sender.as_deref(), info)
                .map_err(|m| ApiError::field("bad_sender", "sender", m))?;
            let segments = count_segments(&text, Concat::Udh8);
            if segments > 255 {
                return Err(ApiError::field(
                    "too_long",
                    "text",
                    format!("the text needs {segments} SMS parts; at most 255"),
                ));
            }
            Ok(Content::Sms(SmsContent {
                sender,
                text,
                segments,
            }))
        }
        Channel::Voice => {
            let audio_id = spec.audio_id.clone().ok_or_else(|| {
                ApiError::field(
                    "missing",
                    "audio_id",
                    "a voice campaign needs an audio_id from POST /v1/audio",
                )
            })?;
            let alaw = app.prompt(&audio_id).await.ok_or_else(|| {
                ApiError::field("unknown_audio", "audio_id", format!("no audio {audio_id}"))
            })?;
            let min_s = app.config.load().voice.min_prompt_seconds;
            let ms = alaw.len() as u64 / 8;
            if ms < u64::from(min_s) * 1000 {
                return Err(ApiError::field(
                    "prompt_too_short",
                    "audio_id",
                    format!(
                        "the prompt lasts {:.1} s; the service terms forbid calls shorter than {min_s} s (callback bait)",
                        ms as f64 / 1000.0
                    ),
                ));
            }
            Ok(Content::Voice(VoiceContent {
                audio_id,
                alaw,
                repeat: spec.repeat.unwrap_or(1).clamp(1, 10),
            }))
        }
    }
}

fn spec_from_query(query: &[(String, String)]) -> Result<CampaignSpec, ApiError> {
    let mut spec = CampaignSpec::default();
    for (k, value) in query {
        let v = Some(value.clone());
        match k.as_str() {
            "channel" => spec.channel = v,
            "text" => spec.text = v,
            "sender" => spec.sender = v,
            "audio_id" => spec.audio_id = v,
            "class" => spec.class = v,
            "start_at" => spec.start_at = v,
            "skip_unreachable" => spec.skip_unreachable = Some(value == "true"),
            "repeat" => {
                spec.repeat = Some(value.parse().map_err(|_| {
                    ApiError::field("bad_repeat", "repeat", "repeat is a number from 1 to 10")
                })?)
            }
            other => {
                return Err(ApiError::field(
                    "unknown_parameter",
                    other.to_owned(),
                    format!("unknown query parameter {other:?}"),
                ));
            }
        }
    }
    Ok(spec)
}

/// Numbers from CSV text: the first column of each non-empty line; a first line without any
/// digit is a header.
pub fn csv_numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let first = line.split([',', ';', '\t']).next().unwrap_or("").trim();
        let first = first.trim_matches('"');
        if first.is_empty() || (i == 0 && !first.bytes().any(|b| b.is_ascii_digit())) {
            continue;
        }
        out.push(first.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_numbers_skip_header_and_blank_lines_and_take_the_first_column() {
        let csv = "phone,name\n+7 701 123 45 67,Aigerim\n\n\"87051234567\";x\n";
        assert_eq!(csv_numbers(csv), vec!["+7 701 123 45 67", "87051234567"]);
    }
}
