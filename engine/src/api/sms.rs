//! `POST /v1/sms`: one message or a batch of up to `api.max_batch` (default 10,000).
//!
//! ```text
//! {"to": "+7 701 123 45 67", "text": "Сәлем!", "sender": "SHOP"}
//! {"messages": [{"to": "...", "text": "...", "sender": "...", "class": "service"}, ...]}
//! ```
//! Answers 202 with a result per row (`queued`, `deferred`, `insufficient_funds`, `refused`
//! with a reason) and the rows that were malformed (each with its field); 400 if no row was
//! usable; 429 with Retry-After when the operator queues are full.

use super::{ApiError, account_caller, parse_class};
use crate::app::{AccountInfo, App};
use crate::ingest::{self, AcceptError, Batch, Row, RowResult, Totals};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sendbox_codecs::sms::{Concat, count_segments};
use sendbox_dispatch::{AccountId, Content, SmsContent, TrafficClass};
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsItem {
    to: String,
    text: String,
    #[serde(default)]
    sender: Option<String>,
    #[serde(default)]
    class: Option<String>,
}

/// A malformed row.
#[derive(Debug, Serialize)]
pub struct RowError {
    /// Position in the request.
    pub index: usize,
    /// Stable code.
    pub code: &'static str,
    /// The field at fault, e.g. `messages[3].text`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Serialize)]
struct Answer {
    #[serde(flatten)]
    totals: Totals,
    results: Vec<RowResult>,
    errors: Vec<RowError>,
}

/// The largest number of parts a text may take.
const MAX_SEGMENTS: u16 = 255;

/// The rows of a request body, unparsed, and the field prefix their errors carry: the
/// `messages` of a batch, or the whole body as one message. Each row is decoded on its own, so
/// one bad row is reported by its field and the others go on; the rows are borrowed slices of
/// the body rather than a `serde_json::Value` tree (a map and its strings per message).
///
/// A batch has at most `max` rows: reading stops at the first row past it (413), so an
/// oversized body is refused without a list of all its rows being built.
fn split_rows(body: &[u8], max: usize) -> Result<(Vec<&str>, &'static str), ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad_request("bad_json", format!("the body is not JSON: not UTF-8: {e}"))
    })?;
    let top = match serde_json::from_str::<HashMap<Cow<'_, str>, &RawValue>>(text) {
        Ok(top) => top,
        // Not an object: one row, which its own decoding will refuse, if it is JSON at all.
        Err(_) => {
            serde_json::from_str::<&RawValue>(text).map_err(|e| {
                ApiError::bad_request("bad_json", format!("the body is not JSON: {e}"))
            })?;
            return Ok((vec![text], ""));
        }
    };
    let Some(messages) = top.get("messages") else {
        return Ok((vec![text], ""));
    };
    if let Some(other) = top.keys().find(|k| *k != "messages") {
        return Err(ApiError::bad_request(
            "bad_request",
            format!("unknown field `{other}` next to `messages`"),
        ));
    }
    let text = messages.get();
    let too_many = Cell::new(false);
    let seed = RowsSeed {
        capacity: (text.len() / MIN_ROW_BYTES).min(max),
        max,
        too_many: &too_many,
    };
    match seed.deserialize(&mut serde_json::Deserializer::from_str(text)) {
        Ok(rows) => Ok((rows, "messages")),
        Err(_) if too_many.get() => Err(ApiError::too_large(format!(
            "more than {max} messages in one request; the limit is api.max_batch = {max}"
        ))),
        Err(e) => Err(ApiError::bad_request(
            "bad_request",
            format!("messages: expected an array: {e}"),
        )),
    }
}

/// Fewer bytes than a well-formed row takes (`{"to":"77011234567","text":"x"}` is 32): the
/// array's length over this sizes the row list once (a hint only: it is capped at the batch
/// limit, and a body of malformed rows just grows the list).
const MIN_ROW_BYTES: usize = 24;

/// The elements of the `messages` array, unparsed, into a list sized up front (growing it
/// by doubling to 10,000 rows copies it a dozen times), refusing more than `max`.
struct RowsSeed<'f> {
    capacity: usize,
    max: usize,
    /// Set when the array has more than `max` elements (the error then says why).
    too_many: &'f Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = Vec<&'de str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = Vec<&'de str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::with_capacity(self.capacity);
        while let Some(r) = seq.next_element::<&'de RawValue>()? {
            if rows.len() == self.max {
                self.too_many.set(true);
                return Err(serde::de::Error::custom("too many messages"));
            }
            rows.push(r.get());
        }
        Ok(rows)
    }
}

/// The 202 answer, written into a body sized for its rows: `Json` starts at 128 bytes and
/// doubles its way to the ~550 KB of a 10,000-row answer.
fn accepted(answer: &Answer) -> Result<Response, ApiError> {
    let rows = answer.results.len() + answer.errors.len();
    let mut body = Vec::with_capacity(256 + 64 * rows);
    serde_json::to_writer(&mut body, answer)
        .map_err(|e| ApiError::unavailable(format!("encoding the answer: {e}")))?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

pub(super) async fn post_sms(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let account = account_caller(&app, &headers)?;
    let max = app.config.load().api.max_batch as usize;
    let (items, prefix) = split_rows(&body, max)?;
    if items.is_empty() {
        return Err(ApiError::field("empty", "messages", "no messages"));
    }
    let info = app
        .account(AccountId(account))
        .ok_or_else(|| ApiError::forbidden("unknown account"))?
        .clone();
    let mut rows = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    let mut class = None;
    let mut last = None;
    for (index, v) in items.into_iter().enumerate() {
        let at = |f: &str| {
            if prefix.is_empty() {
                f.to_owned()
            } else {
                format!("{prefix}[{index}].{f}")
            }
        };
        let item: SmsItem = match serde_json::from_str(v) {
            Ok(i) => i,
            Err(e) => {
                errors.push(RowError {
                    index,
                    code: "bad_row",
                    field: if prefix.is_empty() {
                        "body".into()
                    } else {
                        format!("{prefix}[{index}]")
                    },
                    message: e.to_string(),
                });
                continue;
            }
        };
        match check_item(item, &info, class, last.as_deref()) {
            Ok((to, content, c)) => {
                class = Some(c);
                rows.push((Row { to, index }, shared(&mut last, content)));
            }
            Err((code, field, message)) => errors.push(RowError {
                index,
                code,
                field: at(field),
                message,
            }),
        }
    }
    if rows.is_empty() {
        let first = &errors[0];
        return Err(ApiError::field(
            first.code,
            first.field.clone(),
            first.message.clone(),
        ));
    }
    let batch = Batch {
        account: AccountId(account),
        class: class.unwrap_or_default(),
        campaign: None,
        not_before: None,
        rows,
        skip_unreachable: None,
    };
    match ingest::accept(&app, batch).await {
        Ok((results, totals)) => accepted(&Answer {
            totals,
            results,
            errors,
        }),
        Err(AcceptError::Backpressure(b)) => Err(ApiError::busy(b.retry_after_s)),
        Err(AcceptError::Store(e)) => Err(ApiError::unavailable(format!("store: {e}"))),
    }
}

type Fault = (&'static str, &'static str, String);

/// `content`, or the previous row's when they are equal: the rows of a batch sending one text
/// from one sender (a campaign's numbers) share one content, held once in memory while they
/// wait and split into parts once by the operator's link (its cache is per content).
fn shared(last: &mut Option<Arc<Content>>, content: Content) -> Arc<Content> {
    match last {
        Some(l) if **l == content => l.clone(),
        _ => last.insert(Arc::new(content)).clone(),
    }
}

/// Validate one row: text, sender, class. One request has one class (the window rules differ
/// per class; mixing them in one batch is refused per row). An accepted row is its number,
/// its content (the text moved into it) and its class. `previous` is the content of the last
/// accepted row: a row repeating its text reuses its segment count.
fn check_item(
    item: SmsItem,
    info: &AccountInfo,
    batch_class: Option<TrafficClass>,
    previous: Option<&Content>,
) -> Result<(String, Content, TrafficClass), Fault> {
    if item.text.is_empty() {
        return Err(("empty", "text", "the text is empty".into()));
    }
    let segments = match previous {
        Some(Content::Sms(p)) if p.text == item.text => p.segments,
        _ => count_segments(&item.text, Concat::Udh8),
    };
    if segments > MAX_SEGMENTS {
        return Err((
            "too_long",
            "text",
            format!("the text needs {segments} SMS parts; at most {MAX_SEGMENTS}"),
        ));
    }
    let sender =
        check_sender(item.sender.as_deref(), info).map_err(|m| ("bad_sender", "sender", m))?;
    let class = match item.class.as_deref() {
        None => TrafficClass::Service,
        Some(c) => parse_class(c).ok_or_else(|| {
            (
                "bad_class",
                "class",
                format!("unknown class {c:?}; expected service, marketing or otp"),
            )
        })?,
    };
    if let Some(allowed) = &info.classes
        && !allowed.contains(&class)
    {
        return Err((
            "class_not_allowed",
            "class",
            format!("this account may not send {} traffic", class.as_str()),
        ));
    }
    if let Some(b) = batch_class
        && b != class
    {
        return Err((
            "mixed_class",
            "class",
            "one request carries one traffic class".into(),
        ));
    }
    Ok((
        item.to,
        Content::Sms(SmsContent {
            sender,
            text: item.text,
            segments,
        }),
        class,
    ))
}

/// The sender to use: the one given (allowed for the account, well formed), or the account's
/// first allowed sender.
pub(super) fn check_sender(given: Option<&str>, info: &AccountInfo) -> Result<String, String> {
    let sender = match (given, &info.senders) {
        (Some(s), _) => s.to_owned(),
        (None, Some(list)) if !list.is_empty() => list[0].clone(),
        (None, _) => return Err("a sender is required".into()),
    };
    if let Some(list) = &info.senders
        && !list.iter().any(|s| s == &sender)
    {
        return Err(format!(
            "sender {sender:?} is not registered for this account"
        ));
    }
    let numeric = sender.bytes().all(|b| b.is_ascii_digit());
    if numeric {
        if sender.is_empty() || sender.len() > 15 {
            return Err("a numeric sender has 1 to 15 digits".into());
        }
    } else if sender.is_empty()
        || sender.chars().count() > 11
        || !sender
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " -._".contains(c))
    {
        return Err(
            "an alphanumeric sender has 1 to 11 Latin letters, digits, space, - . _".into(),
        );
    }
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(body: &str) -> Result<(Vec<String>, &'static str), (&'static str, String)> {
        split_rows(body.as_bytes(), 10)
            .map(|(r, p)| (r.iter().map(|x| x.to_string()).collect(), p))
            .map_err(|e| (e.code, e.message))
    }

    fn sms(sender: &str, text: &str) -> Content {
        Content::Sms(SmsContent {
            sender: sender.into(),
            text: text.into(),
            segments: 1,
        })
    }

    #[test]
    fn consecutive_rows_with_one_text_and_sender_share_their_content() {
        let mut last = None;
        let a = shared(&mut last, sms("SHOP", "Сәлем"));
        let b = shared(&mut last, sms("SHOP", "Сәлем"));
        assert!(Arc::ptr_eq(&a, &b));
        let other_sender = shared(&mut last, sms("ACME", "Сәлем"));
        assert!(!Arc::ptr_eq(&b, &other_sender));
        let other_text = shared(&mut last, sms("ACME", "Сәлем!"));
        assert!(!Arc::ptr_eq(&other_sender, &other_text));
        assert_eq!(*other_text, sms("ACME", "Сәлем!"));
        let again = shared(&mut last, sms("ACME", "Сәлем!"));
        assert!(Arc::ptr_eq(&other_text, &again));
    }

    #[test]
    fn a_row_repeating_the_previous_text_reuses_its_segment_count() {
        let info = AccountInfo {
            id: "acme".into(),
            name: "Acme".into(),
            senders: None,
            classes: None,
        };
        let item = |text: &str| SmsItem {
            to: "+77011234567".into(),
            text: text.into(),
            sender: Some("SHOP".into()),
            class: None,
        };
        let segments = |c: &Content| match c {
            Content::Sms(s) => s.segments,
            _ => unreachable!(),
        };
        let long = "Сәлем ".repeat(30); // 180 UCS-2 units: 3 parts
        let (_, first, _) = check_item(item(&long), &info, None, None).unwrap();
        assert_eq!(segments(&first), 3);
        // The count comes from the previous row (9 here, to tell it apart) when the text is
        // the same, and is counted again when it is not.
        let previous = Content::Sms(SmsContent {
            sender: "SHOP".into(),
            text: long.clone(),
            segments: 9,
        });
        let (_, again, _) = check_item(item(&long), &info, None, Some(&previous)).unwrap();
        assert_eq!(segments(&again), 9);
        let (_, other, _) = check_item(item("hi"), &info, None, Some(&previous)).unwrap();
        assert_eq!(segments(&other), 1);
    }

    #[test]
    fn a_batch_is_split_into_its_rows_unparsed() {
        let (r, p) = rows(r#"{"messages": [{"to":"1","text":"a"}, 7, {"txt":"x"}]}"#).unwrap();
        assert_eq!(p, "messages");
        assert_eq!(r, [r#"{"to":"1","text":"a"}"#, "7", r#"{"txt":"x"}"#]);
    }

    #[test]
    fn a_single_message_is_one_row_and_so_is_any_other_json() {
        let one = r#"{"to": "+77011234567", "text": "Сәлем"}"#;
        assert_eq!(rows(one).unwrap(), (vec![one.to_owned()], ""));
        // Not an object: still one row, refused by its own decoding as before.
        assert_eq!(rows("[1, 2]").unwrap(), (vec!["[1, 2]".to_owned()], ""));
    }

    #[test]
    fn a_body_that_is_not_json_or_a_malformed_batch_is_refused_whole() {
        let (code, msg) = rows("{\"messages\": [").unwrap_err();
        assert_eq!(code, "bad_json", "{msg}");
        let (code, _) = rows("\u{FEFF}").unwrap_err();
        assert_eq!(code, "bad_json");
        assert_eq!(
            split_rows(b"{\"to\": \"\xff\"}", 10).unwrap_err().code,
            "bad_json"
        );
        let (code, msg) = rows(r#"{"messages": [], "sender": "X"}"#).unwrap_err();
        assert_eq!(
            (code, msg.as_str()),
            ("bad_request", "unknown field `sender` next to `messages`")
        );
        let (code, msg) = rows(r#"{"messages": {"to": "1"}}"#).unwrap_err();
        assert_eq!(code, "bad_request");
        assert!(msg.starts_with("messages: expected an array"), "{msg}");
    }

    #[test]
    fn a_batch_of_more_than_max_rows_is_refused_as_too_large() {
        let batch = |n: usize| {
            let rows: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"to":"+7701{i:07}","text":"t"}}"#))
                .collect();
            format!(r#"{{"messages": [{}]}}"#, rows.join(","))
        };
        assert_eq!(rows(&batch(10)).unwrap().0.len(), 10);
        let (code, msg) = rows(&batch(11)).unwrap_err();
        assert_eq!(
            (code, msg.as_str()),
            (
                "too_large",
                "more than 10 messages in one request; the limit is api.max_batch = 10"
            )
        );
        let e = split_rows(batch(11).as_bytes(), 10).unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        // The body is checked as JSON before its rows are counted.
        let (code, _) = rows(&batch(12).replace("]}", ",]}")).unwrap_err();
        assert_eq!(code, "bad_json");
    }
}
