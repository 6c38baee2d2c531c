//! Whole-upload helpers for `POST /v1/validate`: a JSON list of numbers, and a blocking
//! reader-to-writer run (for a `spawn_blocking` task or the command line).
//!
//! ```
//! use sendbox_analytics::input::json_numbers;
//! assert_eq!(json_numbers(br#"["87011234567", 77051234567]"#).unwrap().len(), 2);
//! assert_eq!(json_numbers(br#"{"numbers": [{"msisdn": "87011234567"}]}"#).unwrap(), ["87011234567"]);
//! assert!(json_numbers(b"{}").is_err());
//! ```

use crate::output::ResultCsv;
use crate::validate::{Run, Summary, Validator};
use std::io::{Read, Write};

/// Errors of the whole-upload helpers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// [`json_numbers`]: not JSON.
    #[error("bad JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// [`json_numbers`]: JSON of another shape; the message says which element.
    #[error("bad JSON list of numbers: {0}")]
    Shape(String),
    /// [`validate_stream`]: reading the upload or writing the result failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// [`validate_stream`]: writing the result CSV failed.
    #[error("result CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Keys an object element may hold its number under.
const KEYS: [&str; 4] = ["msisdn", "phone", "number", "to"];

/// The numbers of a JSON upload: an array (or `{"numbers": [...]}`) of strings, integers,
/// or objects with an `msisdn`, `phone`, `number` or `to` field.
pub fn json_numbers(body: &[u8]) -> Result<Vec<String>, InputError> {
    let v: serde_json::Value = serde_json::from_slice(body)?;
    let list = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o.remove("numbers") {
            Some(serde_json::Value::Array(a)) => a,
            _ => {
                return Err(InputError::Shape(
                    "expected an array or {\"numbers\": [...]}".into(),
                ));
            }
        },
        _ => {
            return Err(InputError::Shape(
                "expected an array or {\"numbers\": [...]}".into(),
            ));
        }
    };
    list.into_iter()
        .enumerate()
        .map(|(i, e)| {
            let e = match e {
                serde_json::Value::Object(mut o) => KEYS
                    .iter()
                    .find_map(|k| o.remove(*k))
                    .unwrap_or(serde_json::Value::Null),
                e => e,
            };
            match e {
                serde_json::Value::String(s) => Ok(s),
                serde_json::Value::Number(n) => Ok(n.to_string()),
                _ => Err(InputError::Shape(format!(
                    "element {i} is not a number, a string or an object with msisdn"
                ))),
            }
        })
        .collect()
}

/// Validates a CSV (or one-per-line) upload read from `input` in 64 KiB chunks, writing the
/// result CSV to `out` if given. Blocking: run it on a blocking thread.
pub fn validate_stream<R: Read, W: Write>(
    v: &Validator<'_>,
    mut input: R,
    out: Option<W>,
) -> Result<(Summary, Option<W>), InputError> {
    let mut csv = out.map(ResultCsv::new).transpose()?;
    let mut err = None;
    let mut run = Run::new(v);
    let mut buf = vec![0u8; 64 * 1024];
    let mut write = |row: &crate::validate::Validation<'_>| {
        if err.is_none()
            && let Some(w) = csv.as_mut()
            && let Err(e) = w.write(row, v)
        {
            err = Some(e);
        }
    };
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        run.push(&buf[..n], &mut write);
    }
    let summary = run.finish(&mut write);
    if let Some(e) = err {
        return Err(e.into());
    }
    Ok((summary, csv.map(ResultCsv::finish).transpose()?))
}
