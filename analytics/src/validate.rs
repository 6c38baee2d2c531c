//! Validation of a client base without sending anything: per number its normalised form or
//! why it is invalid, line type, operator, blacklisting, and what the history knows about
//! reaching it; plus a [`Summary`] with duplicates collapsed.
//!
//! Input is streamed: [`Run::push`] takes chunks of a CSV (or one-number-per-line) upload as
//! they arrive and calls back once per row with a borrowed [`Validation`] (no allocation per
//! row); [`Run::finish`] returns the summary. [`crate::output::ResultCsv`] writes the downloadable CSV.
//!
//! ```
//! use sendbox_analytics::validate::{Run, Validator};
//! use sendbox_policy::{blacklist::{Blacklist, BlacklistSet}, route::Router, AccountId, OperatorId};
//! let router = Router::new([(701, OperatorId(0))]).unwrap();
//! let lists = BlacklistSet::new(Blacklist::default());
//! let ops = vec!["kcell".to_string()];
//! let v = Validator::new(&router, &ops, &lists, AccountId(0));
//! let mut run = Run::new(&v);
//! let mut reasons = Vec::new();
//! run.push(b"phone\n87011234567\n+7 701 123 45 67\nabc\n", &mut |r| reasons.push(r.reason));
//! let summary = run.finish(&mut |_| {});
//! assert_eq!(reasons, [None, None, Some("bad_character")]);
//! assert_eq!((summary.valid, summary.unique, summary.duplicates), (2, 1, 1));
//! ```

use crate::history::History;
use crate::line::{Splitter, field, is_header, pick_column};
use sendbox_policy::blacklist::BlacklistSet;
use sendbox_policy::number::parse_bytes;
use sendbox_policy::route::Router;
use sendbox_policy::{AccountId, Channel, LineType, Msisdn, NumberError, OperatorId};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Permanent failures after which a number is flagged unreachable.
pub const UNREACHABLE_AFTER: u32 = 2;

/// What validation needs: routing, blacklists, and optionally the account's history.
#[derive(Debug, Clone)]
pub struct Validator<'a> {
    router: &'a Router,
    operators: &'a [String],
    blacklists: &'a BlacklistSet,
    account: AccountId,
    history: Option<(&'a History, Option<u32>)>,
    unreachable_after: u32,
}

/// One validated row. Borrows the input line.
#[derive(Debug, Clone, Copy)]
pub struct Validation<'i> {
    /// 1-based row number in the input (header included).
    pub line: u64,
    /// The number as given (the chosen column, unquoted and trimmed).
    pub input: &'i [u8],
    /// The E.164 number, if valid.
    pub normalized: Option<Msisdn>,
    /// Why it is invalid: a [`NumberError::code`] (`wrong_length`, `not_kazakhstan`,
    /// `unknown_def`...).
    pub reason: Option<&'static str>,
    /// Mobile, fixed line or fixed wireless.
    pub line_type: Option<LineType>,
    /// The operator (portability first, then the DEF table).
    pub operator: Option<OperatorId>,
    /// On the global or the account's blacklist.
    pub blacklisted: bool,
    /// The same number appeared on an earlier row.
    pub duplicate: bool,
    /// What the history knows (zeroes when nothing).
    pub history: Reach,
    /// Repeated permanent failures: campaigns may skip it.
    pub unreachable: bool,
}

/// What the history knows about reaching a number. Times are Unix seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// Last SMS delivered.
    pub last_delivered: Option<i64>,
    /// Last permanent failure and its code (index into [`History::codes`]).
    pub last_permanent_failure: Option<(i64, u16)>,
    /// Permanent failures.
    pub permanent_failures: u32,
    /// Calls answered.
    pub answered_calls: u32,
    /// Attempts (SMS and calls).
    pub attempts: u32,
}

/// Counts over a whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Data rows (header excluded).
    pub rows: u64,
    /// Valid rows (duplicates included).
    pub valid: u64,
    /// Invalid rows.
    pub invalid: u64,
    /// Distinct valid numbers.
    pub unique: u64,
    /// Valid rows repeating an earlier number.
    pub duplicates: u64,
    /// Invalid rows by reason code.
    pub by_reason: BTreeMap<String, u64>,
    /// Distinct valid numbers by operator name (`unknown` without one).
    pub by_operator: BTreeMap<String, u64>,
    /// Distinct valid numbers by line type (`mobile`, `fixed_line`, `fixed_wireless`, `unknown`).
    pub by_line_type: BTreeMap<String, u64>,
    /// Distinct blacklisted numbers.
    pub blacklisted: u64,
    /// Distinct numbers flagged unreachable.
    pub unreachable: u64,
    /// Distinct numbers the history knows.
    pub known: u64,
}

/// The name of a line type in the API.
pub fn line_type_name(t: Option<LineType>) -> &'static str {
    match t {
        Some(LineType::Mobile) => "mobile",
        Some(LineType::FixedLine) => "fixed_line",
        Some(LineType::FixedWireless) => "fixed_wireless",
        None => "unknown",
    }
}

impl<'a> Validator<'a> {
    /// A validator for `account`; `operators` names the router's [`OperatorId`]s by index.
    pub fn new(
        router: &'a Router,
        operators: &'a [String],
        blacklists: &'a BlacklistSet,
        account: AccountId,
    ) -> Self {
        Validator {
            router,
            operators,
            blacklists,
            account,
            history: None,
            unreachable_after: UNREACHABLE_AFTER,
        }
    }

    /// Adds history facts; `account` limits them to that account's events (the
    /// unreachable flag is about the account's own history).
    pub fn with_history(mut self, history: &'a History, account: Option<&str>) -> Self {
        let idx = account.map(|a| history.account_index(a).unwrap_or(u32::MAX));
        self.history = Some((history, idx));
        self
    }

    /// Permanent failures that flag a number unreachable (default [`UNREACHABLE_AFTER`]).
    pub fn unreachable_after(mut self, n: u32) -> Self {
        self.unreachable_after = n.max(1);
        self
    }

    /// The operator name of `id`.
    pub fn operator_name(&self, id: OperatorId) -> &str {
        self.operators
            .get(usize::from(id.0))
            .map_or("unknown", String::as_str)
    }

    /// The history in use, if any.
    pub fn history(&self) -> Option<&'a History> {
        self.history.map(|(h, _)| h)
    }

    /// Validates one number (no duplicate detection: see [`Run`]).
    pub fn check<'i>(&self, line: u64, input: &'i [u8]) -> Validation<'i> {
        let mut v = Validation {
            line,
            input,
            normalized: None,
            reason: None,
            line_type: None,
            operator: None,
            blacklisted: false,
            duplicate: false,
            history: Reach::default(),
            unreachable: false,
        };
        let m = match parse_bytes(input) {
            Ok(m) => m,
            Err(e) => {
                v.reason = Some(e.code());
                return v;
            }
        };
        // Voice routing gives an operator for fixed lines too; SMS suitability is the line type.
        match self.router.route(m, Channel::Voice) {
            Ok(op) => v.operator = Some(op),
            Err(e @ NumberError::UnknownDef { .. }) => {
                v.reason = Some(e.code());
                return v;
            }
            Err(_) => {}
        }
        v.normalized = Some(m);
        v.line_type = m.line_type();
        v.blacklisted = self.blacklists.is_blocked(self.account, m);
        if let Some((h, account)) = self.history {
            let f = h.facts_idx(m.get(), account, i64::MAX);
            v.history = Reach {
                last_delivered: f.last_delivered,
                last_permanent_failure: f.permanent_code_idx,
                permanent_failures: f.permanent_failures,
                answered_calls: f.calls_answered,
                attempts: f.attempts(),
            };
            v.unreachable = f.permanent_failures >= self.unreachable_after;
        }
        v
    }
}

/// One streaming validation run: keeps the partial line, the header, duplicates and counts.
#[derive(Debug)]
pub struct Run<'v> {
    validator: &'v Validator<'v>,
    splitter: Splitter,
    line: u64,
    column: Option<usize>,
    seen: HashSet<u64>,
    summary: Summary,
}

impl<'v> Run<'v> {
    /// A new run.
    pub fn new(validator: &'v Validator<'v>) -> Self {
        Run {
            validator,
            splitter: Splitter::default(),
            line: 0,
            column: None,
            seen: HashSet::new(),
            summary: Summary::default(),
        }
    }

    /// Feeds a chunk of input; calls `out` for every complete row in it.
    pub fn push(&mut self, chunk: &[u8], out: &mut dyn FnMut(&Validation<'_>)) {
        let mut lines = std::mem::take(&mut self.splitter);
        lines.push(chunk, &mut |l| self.row(l, out));
        self.splitter = lines;
    }

    /// Validates a list of numbers (e.g. a JSON array), one per row, no header.
    pub fn push_numbers<'s>(
        &mut self,
        numbers: impl IntoIterator<Item = &'s str>,
        out: &mut dyn FnMut(&Validation<'_>),
    ) {
        self.column = Some(usize::MAX);
        for n in numbers {
            self.line += 1;
            self.record(n.trim().as_bytes(), out);
        }
    }

    /// Ends the run (validating a last line without a newline) and returns the summary.
    pub fn finish(mut self, out: &mut dyn FnMut(&Validation<'_>)) -> Summary {
        let mut lines = std::mem::take(&mut self.splitter);
        lines.finish(&mut |l| self.row(l, out));
        crate::metrics::validation_run(&self.summary);
        self.summary
    }

    fn row(&mut self, line: &[u8], out: &mut dyn FnMut(&Validation<'_>)) {
        self.line += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let col = match self.column {
            Some(c) => c,
            None => {
                let c = pick_column(line);
                self.column = Some(c.unwrap_or(0));
                if c.is_some() || is_header(line) {
                    return;
                }
                0
            }
        };
        let input = if col == usize::MAX {
            line
        } else {
            field(line, col)
        };
        self.record(input, out);
    }

    fn record(&mut self, input: &[u8], out: &mut dyn FnMut(&Validation<'_>)) {
        let mut v = self.validator.check(self.line, input);
        let s = &mut self.summary;
        s.rows += 1;
        match v.normalized {
            None => {
                s.invalid += 1;
                let r = v.reason.unwrap_or("invalid");
                match s.by_reason.get_mut(r) {
                    Some(n) => *n += 1,
                    None => {
                        s.by_reason.insert(r.to_string(), 1);
                    }
                }
            }
            Some(m) => {
                s.valid += 1;
                if self.seen.insert(m.get()) {
                    s.unique += 1;
                    let op = v
                        .operator
                        .map_or("unknown", |o| self.validator.operator_name(o));
                    bump(&mut s.by_operator, op);
                    bump(&mut s.by_line_type, line_type_name(v.line_type));
                    s.blacklisted += u64::from(v.blacklisted);
                    s.unreachable += u64::from(v.unreachable);
                    s.known += u64::from(v.history.attempts > 0);
                } else {
                    s.duplicates += 1;
                    v.duplicate = true;
                }
            }
        }
        out(&v);
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}
