//! Reading big line-oriented files (blacklists, portability CSV) fast, and reporting the
//! lines that could not be used without failing the load.
//!
//! Files are read in 1 MiB chunks (never whole into memory). Each line has its `\r`, a
//! leading UTF-8 BOM, and surrounding spaces trimmed; blank lines and `#` comments are
//! skipped. Only an unreadable file fails a load ([`LoadError`]); a bad line becomes a
//! [`LineError`] naming the file and line, and the load goes on.

use crate::number::NumberError;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Detailed [`LineError`]s kept per load; the rest are only counted in
/// [`LoadReport::omitted_errors`] so a garbage file cannot use unbounded memory.
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// Longest accepted line, in bytes.
pub const MAX_LINE: usize = 4096;

const CHUNK: usize = 1 << 20;

/// A file could not be read at all. Returned by `Blacklist::load`, `Blacklists::reload` and
/// `Portability::load`; the previous list stays in force.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Opening or reading the file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// What was wrong with one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineFault {
    /// The number did not parse.
    #[error("bad number: {0}")]
    Number(NumberError),
    /// Longer than [`MAX_LINE`] bytes.
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
    /// Portability CSV: no `,operator` after the number.
    #[error("missing operator column")]
    MissingOperator,
    /// Portability CSV: the operator name is not one the caller knows.
    #[error("unknown operator")]
    UnknownOperator,
    /// Portability CSV: more than two columns.
    #[error("too many columns")]
    TooManyColumns,
}

/// One unusable line: which file, which line (from 1), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The file.
    pub file: Arc<Path>,
    /// Line number, from 1.
    pub line: u64,
    /// What was wrong.
    pub fault: LineFault,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.fault)
    }
}

/// The summary of a load: how many lines and entries, and the lines that were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Lines read, including blank lines and comments.
    pub lines: u64,
    /// Distinct entries in the loaded table.
    pub entries: usize,
    /// The first [`MAX_REPORTED_ERRORS`] bad lines.
    pub errors: Vec<LineError>,
    /// Bad lines beyond those in `errors`.
    pub omitted_errors: u64,
}

impl LoadReport {
    /// All bad lines, reported or not.
    pub fn bad_lines(&self) -> u64 {
        self.errors.len() as u64 + self.omitted_errors
    }

    pub(crate) fn push(&mut self, file: &Arc<Path>, line: u64, fault: LineFault) {
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(LineError {
                file: Arc::clone(file),
                line,
                fault,
            });
        } else {
            self.omitted_errors += 1;
        }
    }
}

/// Calls `f(line_number, line)` for every non-blank, non-comment line of `path`, trimmed.
/// A line over [`MAX_LINE`] bytes is passed as `Err(LineFault::TooLong)`. Returns the count
/// of lines read.
pub(crate) fn for_each_line(
    path: &Path,
    mut f: impl FnMut(u64, Result<&[u8], LineFault>),
) -> Result<u64, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut buf = vec![0u8; CHUNK];
    let (mut start, mut end) = (0usize, 0usize);
    let mut line_no = 0u64;
    let mut skipping = false; // inside an over-long line, until its newline
    let mut first = true;
    loop {
        let n = read_retrying(&mut file, &mut buf[end..]).map_err(io)?;
        end += n;
        let eof = n == 0;
        if first && end >= 3 && buf[..3] == [0xEF, 0xBB, 0xBF] {
            start = 3;
        }
        first = first && end < 3 && !eof;
        while let Some(pos) = buf[start..end].iter().position(|&b| b == b'\n') {
            let line = &buf[start..start + pos];
            line_no += 1;
            if skipping {
                skipping = false;
            } else {
                emit(line_no, line, &mut f);
            }
            start += pos + 1;
        }
        if eof {
            if skipping || start < end {
                line_no += 1;
                if !skipping {
                    emit(line_no, &buf[start..end], &mut f);
                }
            }
            return Ok(line_no);
        }
        if end - start > MAX_LINE && !skipping {
            // Report once, then drop bytes until the newline.
            f(line_no + 1, Err(LineFault::TooLong));
            skipping = true;
        }
        if skipping {
            start = end;
        }
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
    }
}

fn emit(line_no: u64, line: &[u8], f: &mut impl FnMut(u64, Result<&[u8], LineFault>)) {
    let line = line.trim_ascii();
    if line.is_empty() || line[0] == b'#' {
        return;
    }
    if line.len() > MAX_LINE {
        f(line_no, Err(LineFault::TooLong));
    } else {
        f(line_no, Ok(line));
    }
}

fn read_retrying(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    type Lines = Vec<(u64, Result<Vec<u8>, LineFault>)>;

    fn lines_of(content: &[u8]) -> (Lines, u64) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content).unwrap();
        let mut out = Vec::new();
        let n = for_each_line(f.path(), |no, l| out.push((no, l.map(<[u8]>::to_vec)))).unwrap();
        (out, n)
    }

    #[test]
    fn lines_are_trimmed_and_numbered_and_comments_skipped() {
        let (out, n) = lines_of(b"\xEF\xBB\xBFa\r\n\n# c\n  b  \nlast");
        assert_eq!(n, 5);
        assert_eq!(
            out,
            vec![
                (1, Ok(b"a".to_vec())),
                (4, Ok(b"b".to_vec())),
                (5, Ok(b"last".to_vec()))
            ]
        );
    }

    #[test]
    fn an_over_long_line_is_reported_once_and_the_rest_still_read() {
        let mut content = b"first\n".to_vec();
        content.extend(std::iter::repeat_n(b'9', CHUNK * 2 + 17));
        content.extend_from_slice(b"\nafter\n");
        let (out, n) = lines_of(&content);
        assert_eq!(n, 3);
        assert_eq!(
            out,
            vec![
                (1, Ok(b"first".to_vec())),
                (2, Err(LineFault::TooLong)),
                (3, Ok(b"after".to_vec()))
            ]
        );
    }

    #[test]
    fn lines_spanning_chunk_boundaries_are_whole() {
        let mut content = Vec::new();
        for i in 0..200_000u32 {
            writeln!(content, "{i}").unwrap();
        }
        let (out, n) = lines_of(&content);
        assert_eq!(n, 200_000);
        assert_eq!(out.len(), 200_000);
        for (i, (no, l)) in out.iter().enumerate() {
            assert_eq!(*no, i as u64 + 1);
            assert_eq!(l.as_deref().unwrap(), i.to_string().as_bytes());
        }
    }

    #[test]
    fn a_missing_file_is_a_load_error_naming_it() {
        let e = for_each_line(Path::new("/nonexistent/black.txt"), |_, _| {}).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/black.txt"), "{e}");
    }

    #[test]
    fn reported_errors_are_capped_and_the_rest_counted() {
        let file: Arc<Path> = Arc::from(Path::new("x"));
        let mut r = LoadReport::default();
        for i in 0..(MAX_REPORTED_ERRORS as u64 + 5) {
            r.push(&file, i, LineFault::MissingOperator);
        }
        assert_eq!(r.errors.len(), MAX_REPORTED_ERRORS);
        assert_eq!(r.omitted_errors, 5);
        assert_eq!(r.bad_lines(), MAX_REPORTED_ERRORS as u64 + 5);
        assert_eq!(r.errors[3].to_string(), "x:3: missing operator column");
    }
}
