//! Line splitting and field picking for uploaded client bases: chunked input, CRLF, a
//! header naming the number's column, `,` `;` or tab separators, double-quoted fields.
//!
//! ```
//! use sendbox_analytics::line::{field, pick_column};
//! assert_eq!(pick_column(b"name;Phone"), Some(1));
//! assert_eq!(field(b"\"Doe, John\",\" 8701 123 4567 \"", 1), b"8701 123 4567");
//! ```

/// Longest line kept while waiting for its end; longer lines are cut (and will fail to
/// parse as a number, which is reported, not a panic).
pub const MAX_LINE: usize = 64 * 1024;

/// Splits chunks into lines, keeping a partial line between chunks.
#[derive(Debug, Default)]
pub struct Splitter {
    partial: Vec<u8>,
}

fn trim_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

impl Splitter {
    /// Calls `f` for every complete line of `chunk` (with any partial line before it).
    pub fn push(&mut self, mut chunk: &[u8], f: &mut dyn FnMut(&[u8])) {
        if !self.partial.is_empty() {
            match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    self.extend(&chunk[..i]);
                    f(trim_cr(&self.partial));
                    self.partial.clear();
                    chunk = &chunk[i + 1..];
                }
                None => {
                    self.extend(chunk);
                    return;
                }
            }
        }
        let mut rest = chunk;
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            f(trim_cr(&rest[..i]));
            rest = &rest[i + 1..];
        }
        self.extend(rest);
    }

    fn extend(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Calls `f` with the last line if it had no newline.
    pub fn finish(&mut self, f: &mut dyn FnMut(&[u8])) {
        if !self.partial.is_empty() {
            f(trim_cr(&self.partial));
            self.partial.clear();
        }
    }
}

fn is_sep(b: u8) -> bool {
    matches!(b, b',' | b';' | b'\t')
}

/// Field `col` of `line` (0-based), unquoted and trimmed; empty if the line is shorter.
pub fn field(line: &[u8], col: usize) -> &[u8] {
    let mut start = 0;
    let mut n = 0;
    let mut quoted = false;
    for (i, &b) in line.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && is_sep(b) {
            if n == col {
                return clean(&line[start..i]);
            }
            n += 1;
            start = i + 1;
        }
    }
    if n == col { clean(&line[start..]) } else { &[] }
}

fn clean(f: &[u8]) -> &[u8] {
    let f = f.trim_ascii();
    let f = f
        .strip_prefix(b"\"")
        .and_then(|f| f.strip_suffix(b"\""))
        .unwrap_or(f);
    f.trim_ascii()
}

/// Names a header may give the number's column.
const NAMES: [&str; 8] = [
    "msisdn",
    "phone",
    "number",
    "tel",
    "mobile",
    "телефон",
    "номер",
    "recipient",
];

/// If `line` is a header naming the number's column, its index.
pub fn pick_column(line: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(line).to_lowercase();
    text.split([',', ';', '\t'])
        .map(|name| name.trim().trim_matches('"').trim())
        .position(|name| NAMES.iter().any(|n| name.contains(n)))
}

/// Whether a first line is a header (it has letters and its first field holds no digits).
pub fn is_header(line: &[u8]) -> bool {
    let first = field(line, 0);
    line.iter().any(u8::is_ascii_alphabetic) && !first.iter().any(u8::is_ascii_digit)
}
