//! The number-portability table: numbers that moved to another operator (MNP, CDBSN export).
//!
//! Loaded from CSV, `msisdn,operator` per line, header optional; the number in any format
//! [`crate::number::parse`] accepts and the operator as a name the caller maps to an
//! [`OperatorId`]. Bad lines are reported with file and line and skipped. If a number appears
//! twice, the later row wins (exports are appended in time order). Stored as a compact sorted
//! key set plus a parallel `Vec<u16>` of operators (about 6 bytes a row), and for DEF codes
//! with many ported numbers a bitmap that turns away unported numbers in one memory access
//! (at most 4 more bytes a row).
//!
//! ```
//! use sendbox_policy::portability::Portability;
//! use sendbox_policy::{number::parse, OperatorId};
//! let table = Portability::from_rows([(parse("77011234567").unwrap(), OperatorId(2))]);
//! assert_eq!(table.get(parse("+7 701 123 45 67").unwrap()), Some(OperatorId(2)));
//! ```

use crate::bitmap::DefBitmaps;
use crate::index::{NumberIndex, key_of};
use crate::lines::{LineFault, LoadError, LoadReport, for_each_line};
use crate::number::{Msisdn, parse_bytes};
use sendbox_dispatch::OperatorId;
use std::path::Path;
use std::sync::Arc;

/// Ported numbers and the operator now serving each.
#[derive(Debug, Clone)]
pub struct Portability {
    /// For DEF codes with many ported numbers: a bitmap that answers "not ported" (most
    /// lookups) with one memory access before the index is searched.
    filter: DefBitmaps,
    index: NumberIndex,
    /// `operators[i]` serves the number at position `i` of the index.
    operators: Vec<u16>,
}

impl Default for Portability {
    fn default() -> Self {
        Portability::from_rows([])
    }
}

impl Portability {
    /// A table of these rows; for a repeated number the last row wins.
    pub fn from_rows(rows: impl IntoIterator<Item = (Msisdn, OperatorId)>) -> Portability {
        let rows = rows
            .into_iter()
            .filter_map(|(m, op)| Some((key_of(m.get())?, op.0)))
            .collect();
        Portability::build(rows)
    }

    fn build(mut rows: Vec<(u32, u16)>) -> Portability {
        // Stable, so among equal keys the file order is kept and the last one can win.
        rows.sort_by_key(|&(k, _)| k);
        let mut keys = Vec::with_capacity(rows.len());
        let mut operators = Vec::with_capacity(rows.len());
        for (k, op) in rows {
            if keys.last() == Some(&k) {
                // Later row for the same number: replace the operator.
                if let Some(last) = operators.last_mut() {
                    *last = op;
                }
            } else {
                keys.push(k);
                operators.push(op);
            }
        }
        operators.shrink_to_fit();
        Portability {
            filter: DefBitmaps::build(&keys),
            index: NumberIndex::from_sorted_unique(keys),
            operators,
        }
    }

    /// Loads and merges CSV files (e.g. one per operator); for a number in several rows the
    /// last row of the last file wins. `operator` maps the second column (trimmed) to an
    /// operator, `None` for an unknown name. A first line whose number column has no digit is
    /// a header. Fails only if a file cannot be read.
    pub fn load<P: AsRef<Path>>(
        paths: &[P],
        operator: impl Fn(&str) -> Option<OperatorId>,
    ) -> Result<(Portability, LoadReport), LoadError> {
        let mut report = LoadReport::default();
        let mut rows: Vec<(u32, u16)> = Vec::new();
        for path in paths {
            let path = path.as_ref();
            if let Ok(meta) = std::fs::metadata(path) {
                // About 16 bytes a row; capped so a huge garbage file cannot reserve
                // gigabytes before parsing.
                rows.reserve(((meta.len() / 16) as usize).min(64 << 20));
            }
            let file: Arc<Path> = Arc::from(path);
            let mut first = true;
            let lines = for_each_line(path, |line_no, line| {
                let is_first = std::mem::replace(&mut first, false);
                match line.and_then(|l| parse_row(l, is_first, &operator)) {
                    Ok(Some(row)) => rows.push(row),
                    Ok(None) => {} // header
                    Err(fault) => report.push(&file, line_no, fault),
                }
            })?;
            report.lines += lines;
        }
        let table = Portability::build(rows);
        report.entries = table.len();
        Ok((table, report))
    }

    /// The operator now serving `m`, if it was ported.
    #[inline]
    pub fn get(&self, m: Msisdn) -> Option<OperatorId> {
        if self.filter.get(key_of(m.get())?) == Some(false) {
            return None;
        }
        let i = self.index.position(m.get())?;
        self.operators.get(i).map(|&op| OperatorId(op))
    }

    /// Ported numbers in the table.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// Bytes of memory the table uses.
    pub fn memory_bytes(&self) -> usize {
        self.index.memory_bytes() + self.filter.memory_bytes() + self.operators.capacity() * 2
    }
}

/// One CSV row; `Ok(None)` for a header.
fn parse_row(
    line: &[u8],
    first: bool,
    operator: &impl Fn(&str) -> Option<OperatorId>,
) -> Result<Option<(u32, u16)>, LineFault> {
    let mut cols = line.split(|&b| b == b',');
    let number = cols.next().unwrap_or_default().trim_ascii();
    let Some(op) = cols.next() else {
        if first && !number.iter().any(u8::is_ascii_digit) {
            return Ok(None);
        }
        return Err(LineFault::MissingOperator);
    };
    if cols.next().is_some() {
        return Err(LineFault::TooManyColumns);
    }
    let number = strip_quotes(number);
    let m = match parse_bytes(number) {
        Ok(m) => m,
        Err(_) if first && !number.iter().any(u8::is_ascii_digit) => return Ok(None),
        Err(e) => return Err(LineFault::Number(e)),
    };
    let op = std::str::from_utf8(strip_quotes(op.trim_ascii()))
        .ok()
        .and_then(operator)
        .ok_or(LineFault::UnknownOperator)?;
    // A parsed Msisdn is always in range.
    let key = key_of(m.get()).ok_or(LineFault::Number(crate::NumberError::NotKazakhstan))?;
    Ok(Some((key, op.0)))
}

fn strip_quotes(s: &[u8]) -> &[u8] {
    match s {
        [b'"', inner @ .., b'"'] => inner.trim_ascii(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::{NumberError, parse};
    use std::io::Write;

    fn ops(name: &str) -> Option<OperatorId> {
        match name {
            "kcell" => Some(OperatorId(0)),
            "beeline" => Some(OperatorId(1)),
            "tele2" => Some(OperatorId(2)),
            _ => None,
        }
    }

    fn load(content: &str) -> (Portability, LoadReport, tempfile::NamedTempFile) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content.as_bytes()).unwrap();
        let (t, r) = Portability::load(&[f.path()], ops).unwrap();
        (t, r, f)
    }

    fn m(s: &str) -> Msisdn {
        parse(s).unwrap()
    }

    #[test]
    fn csv_with_header_loads_and_bad_lines_are_reported() {
        let (t, r, f) = load(
            "msisdn,operator\n77011234567,beeline\n\"+7 705 111 2233\", \"tele2\"\n77011234568\n79161234567,kcell\n77021234567,mts\n77031234567,kcell,x\n",
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(m("77011234567")), Some(OperatorId(1)));
        assert_eq!(t.get(m("77051112233")), Some(OperatorId(2)));
        assert_eq!(t.get(m("77011234569")), None);
        let bad: Vec<(u64, LineFault)> = r.errors.iter().map(|e| (e.line, e.fault)).collect();
        assert_eq!(
            bad,
            vec![
                (4, LineFault::MissingOperator),
                (5, LineFault::Number(NumberError::NotKazakhstan)),
                (6, LineFault::UnknownOperator),
                (7, LineFault::TooManyColumns),
            ]
        );
        assert_eq!(r.errors[0].file.as_ref(), f.path());
        assert_eq!(r.lines, 7);
        assert_eq!(r.entries, 2);
    }

    #[test]
    fn csv_without_header_loads_its_first_row() {
        let (t, r, _f) = load("77011234567,kcell\n");
        assert_eq!(t.get(m("77011234567")), Some(OperatorId(0)));
        assert!(r.errors.is_empty());
    }

    #[test]
    fn a_header_only_counts_on_the_first_line() {
        let (t, r, _f) = load("77011234567,kcell\nmsisdn,operator\n");
        assert_eq!(t.len(), 1);
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].line, 2);
    }

    #[test]
    fn several_files_merge_and_the_later_file_wins() {
        let (_, _, a) = load("77011234567,kcell\n77021234567,kcell\n");
        let (_, _, b) = load("msisdn,operator\n77011234567,beeline\nbad,kcell\n");
        let (t, r) = Portability::load(&[a.path(), b.path()], ops).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(m("77011234567")), Some(OperatorId(1)));
        assert_eq!(t.get(m("77021234567")), Some(OperatorId(0)));
        assert_eq!(r.lines, 5);
        assert_eq!(r.errors.len(), 1);
        assert_eq!((r.errors[0].file.as_ref(), r.errors[0].line), (b.path(), 3));
        let missing = Portability::load(&[a.path(), Path::new("/nonexistent/p.csv")], ops);
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/p.csv")
        );
    }

    #[test]
    fn the_last_row_for_a_number_wins() {
        let (t, _, _f) = load("77011234567,kcell\n77021234567,kcell\n87011234567,tele2\n");
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(m("77011234567")), Some(OperatorId(2)));
        assert_eq!(t.get(m("77021234567")), Some(OperatorId(0)));
    }

    #[test]
    fn a_dense_def_code_is_filtered_by_its_bitmap_without_losing_rows() {
        let rows: Vec<(Msisdn, OperatorId)> = (0..400_000u64)
            .map(|i| {
                let n = Msisdn::from_e164(77_050_000_000 + i * 7).unwrap();
                (n, OperatorId((i % 3) as u16))
            })
            .collect();
        let t = Portability::from_rows(rows.iter().copied());
        for (n, op) in rows.iter().step_by(97) {
            assert_eq!(t.get(*n), Some(*op));
            assert_eq!(t.get(Msisdn::from_e164(n.get() + 1).unwrap()), None);
        }
        assert!(
            t.memory_bytes() < 12 * t.len(),
            "{} bytes",
            t.memory_bytes()
        );
    }

    #[test]
    fn from_rows_matches_lookups_and_reports_memory() {
        let rows: Vec<(Msisdn, OperatorId)> = (0..10_000u64)
            .map(|i| {
                let n = Msisdn::from_e164(77_770_000_000 + i * 97).unwrap();
                (n, OperatorId((i % 5) as u16))
            })
            .collect();
        let t = Portability::from_rows(rows.iter().copied());
        for (n, op) in &rows {
            assert_eq!(t.get(*n), Some(*op));
        }
        assert_eq!(t.get(m("77770000001")), None);
        assert!(t.memory_bytes() < 12 * t.len());
        assert!(Portability::default().is_empty());
    }
}
