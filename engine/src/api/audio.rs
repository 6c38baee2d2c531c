//! `POST /v1/audio` and `GET /v1/audio/{id}`: customer uploads become telephone audio once.
//!
//! The upload (raw body with `?name=file.mp3`, or multipart with a `file` field) is transcoded
//! to 8 kHz A-law on the blocking pool (never on the async workers), stored under its content
//! hash (the same upload twice by the same account is stored once), and cached in memory as one
//! shared buffer that every call playing it reads.

use super::{ApiError, account_caller, caller};
use crate::app::App;
use crate::auth::Caller;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sendbox_codecs::audio::{AudioError, Law, TranscodeOptions, transcode};
use sendbox_store::AudioRow;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

#[derive(Debug, Deserialize, Default)]
pub(super) struct UploadQuery {
    #[serde(default)]
    name: Option<String>,
}

pub(super) async fn post_audio(
    State(app): State<Arc<App>>,
    Query(q): Query<UploadQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    let account = account_caller(&app, request.headers())?;
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (name, bytes) = if is_multipart {
        let mut mp = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::bad_request("bad_multipart", e.to_string()))?;
        let mut found = None;
        while let Some(field) = mp
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request("bad_multipart", e.to_string()))?
        {
            if field.name() == Some("file") {
                let name = field.file_name().unwrap_or("upload").to_owned();
                let data = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::bad_request("bad_multipart", e.to_string()))?;
                found = Some((name, data));
                break;
            }
        }
        found.ok_or_else(|| {
            ApiError::field("missing", "file", "a multipart upload needs a `file` field")
        })?
    } else {
        let data = Bytes::from_request(request, &())
            .await
            .map_err(|e| ApiError::bad_request("bad_body", e.to_string()))?;
        (q.name.unwrap_or_else(|| "upload".into()), data)
    };
    let account_id = app.accounts[account as usize].id.clone();
    let mut h = Sha256::new();
    h.update(account_id.as_bytes());
    h.update([0]);
    h.update(&bytes);
    let id = hex::encode(&h.finalize()[..16]);
    if let Some(row) = app.store.audio_get(&id).await.ok().flatten() {
        return Ok((StatusCode::OK, Json(row.metadata)).into_response());
    }
    let cfg = app.config.load().voice.audio.clone();
    let opts = TranscodeOptions {
        law: Law::ALaw,
        normalize: (cfg.normalize_dbfs.is_finite()).then_some(cfg.normalize_dbfs as f32),
        trim_silence: cfg.trim_silence,
        max_bytes: cfg.max_bytes,
        max_duration: cfg.max_duration,
        ..TranscodeOptions::default()
    };
    let name2 = name.clone();
    let prompt = tokio::task::spawn_blocking(move || transcode(&name2, &bytes, &opts, &mut |_| {}))
        .await
        .map_err(|e| ApiError::unavailable(format!("transcoder stopped: {e}")))?
        .map_err(audio_error)?;
    let f = &prompt.facts;
    let metadata = json!({
        "audio_id": id,
        "account": account_id,
        "name": name,
        "format": f.format,
        "input_rate": f.input_rate,
        "input_channels": f.input_channels,
        "input_duration_ms": f.input_duration_ms,
        "duration_ms": f.duration_ms,
        "peak_dbfs_in": f.peak_dbfs_in,
        "rms_dbfs_in": f.rms_dbfs_in,
        "gain_db_applied": f.gain_db_applied,
        "clipped_samples": f.clipped_samples,
        "trimmed_ms": [f.trimmed_ms.0, f.trimmed_ms.1],
        "law": "pcma",
        "bytes": prompt.samples.len(),
    });
    let alaw = prompt.samples;
    app.audio
        .insert(id.clone(), bytes::Bytes::from(alaw.clone()));
    app.store
        .audio_put(AudioRow {
            id,
            metadata: metadata.clone(),
            alaw,
            created_at: app.core.clock.now(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(metadata)).into_response())
}

fn audio_error(e: AudioError) -> ApiError {
    match &e {
        AudioError::TooLarge { .. } => ApiError::too_large(e.to_string()),
        _ => ApiError::unprocessable(e.class(), e.to_string()),
    }
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct GetQuery {
    #[serde(default)]
    download: Option<String>,
}

pub(super) async fn get_audio(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<GetQuery>,
) -> Result<Response, ApiError> {
    let c = caller(&app, &headers)?;
    let row = app
        .store
        .audio_get(&id)
        .await?
        .filter(|r| match c {
            Caller::Admin => true,
            Caller::Account(a) => {
                r.metadata.get("account").and_then(Value::as_str)
                    == Some(app.accounts[a as usize].id.as_str())
            }
        })
        .ok_or_else(|| ApiError::not_found("audio"))?;
    match q.download.as_deref() {
        None => Ok(Json(row.metadata).into_response()),
        Some("wav") => {
            let mut out = Vec::with_capacity(row.alaw.len() + 64);
            sendbox_codecs::audio::wav::write_g711(Law::ALaw, &row.alaw, &mut out)
                .map_err(|e| ApiError::unavailable(e.to_string()))?;
            Ok(([(header::CONTENT_TYPE, "audio/wav")], out).into_response())
        }
        Some(other) => Err(ApiError::field(
            "bad_format",
            "download",
            format!("unknown download format {other:?}; expected wav"),
        )),
    }
}
