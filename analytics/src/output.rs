//! The downloadable CSV of a validation run, one row per input row.
//!
//! Columns: `line,input,normalized,valid,reason,line_type,operator,blacklisted,duplicate,
//! unreachable,attempts,answered_calls,last_delivered,permanent_failures,
//! last_permanent_failure,last_permanent_code,last_permanent_reason` (times RFC 3339 UTC).

use crate::history::describe_code;
use crate::validate::{Validation, Validator, line_type_name};
use jiff::Timestamp;
use std::io::Write;

/// Header of [`ResultCsv`].
pub const HEADER: [&str; 17] = [
    "line",
    "input",
    "normalized",
    "valid",
    "reason",
    "line_type",
    "operator",
    "blacklisted",
    "duplicate",
    "unreachable",
    "attempts",
    "answered_calls",
    "last_delivered",
    "permanent_failures",
    "last_permanent_failure",
    "last_permanent_code",
    "last_permanent_reason",
];

/// Writes validation rows as CSV (quoting where needed).
#[derive(Debug)]
pub struct ResultCsv<W: Write> {
    w: csv::Writer<W>,
    buf: String,
}

fn time(t: Option<i64>) -> String {
    t.and_then(|s| Timestamp::from_second(s).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl<W: Write> ResultCsv<W> {
    /// A writer; writes the header.
    pub fn new(out: W) -> Result<Self, csv::Error> {
        let mut w = csv::WriterBuilder::new().flexible(false).from_writer(out);
        w.write_record(HEADER)?;
        Ok(ResultCsv {
            w,
            buf: String::new(),
        })
    }

    /// Writes one row.
    pub fn write(
        &mut self,
        v: &Validation<'_>,
        validator: &Validator<'_>,
    ) -> Result<(), csv::Error> {
        use std::fmt::Write as _;
        let b = |x: bool| if x { "true" } else { "false" };
        let w = &mut self.w;
        self.buf.clear();
        let _ = write!(self.buf, "{}", v.line);
        w.write_field(&self.buf)?;
        w.write_field(v.input)?;
        self.buf.clear();
        if let Some(m) = v.normalized {
            let _ = write!(self.buf, "{}", m.get());
        }
        w.write_field(&self.buf)?;
        w.write_field(b(v.normalized.is_some()))?;
        w.write_field(v.reason.unwrap_or(""))?;
        w.write_field(if v.normalized.is_some() {
            line_type_name(v.line_type)
        } else {
            ""
        })?;
        w.write_field(v.operator.map_or("", |o| validator.operator_name(o)))?;
        w.write_field(b(v.blacklisted))?;
        w.write_field(b(v.duplicate))?;
        w.write_field(b(v.unreachable))?;
        let h = &v.history;
        self.buf.clear();
        let _ = write!(self.buf, "{}", h.attempts);
        w.write_field(&self.buf)?;
        self.buf.clear();
        let _ = write!(self.buf, "{}", h.answered_calls);
        w.write_field(&self.buf)?;
        if h.last_delivered.is_some() {
            w.write_field(time(h.last_delivered))?;
        } else {
            w.write_field("")?;
        }
        self.buf.clear();
        let _ = write!(self.buf, "{}", h.permanent_failures);
        w.write_field(&self.buf)?;
        match (h.last_permanent_failure, validator.history()) {
            (Some((at, code)), Some(hist)) => {
                let code = hist
                    .codes()
                    .get(usize::from(code))
                    .map_or("", String::as_str);
                w.write_field(time(Some(at)))?;
                w.write_field(code)?;
                w.write_field(describe_code(code))?;
            }
            _ => {
                w.write_field("")?;
                w.write_field("")?;
                w.write_field("")?;
            }
        }
        w.write_record(None::<&[u8]>)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> Result<W, csv::Error> {
        self.w
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}
