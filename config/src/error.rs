//! Load errors: every one names the file, and (where there is one) the key path.
//!
//! A syntax or type error stops deserialization, so it comes alone as [`LoadError::Parse`]. The
//! semantic pass that follows collects *all* problems into [`LoadError::Invalid`]:
//!
//! ```text
//! sendbox.toml: operators.kcell.smpp.binds[0].window: must be 1..=1024, got 0
//! sendbox.toml: tariffs: operator "tele2" has no tariff
//! ```
//!
//! Messages never quote a secret (bind and trunk passwords, the store URL's password, tokens).

use std::fmt;
use std::path::PathBuf;

/// The process exit code for a bad config (`EX_USAGE`), used by the engine on any [`LoadError`].
pub const EXIT_CODE: i32 = 64;

/// One semantic problem in a config file. Display: `FILE: path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file, as given to [`crate::load`] (or the name given to [`crate::from_str`]).
    pub file: String,
    /// The key path, e.g. `operators.kcell.smpp.binds[0].window`.
    pub path: String,
    /// What is wrong, e.g. `must be 1..=1024, got 0`.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.path, self.message)
    }
}

/// Why a config could not be loaded. Returned by [`crate::load`] and [`crate::from_str`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// [`crate::load`] could not read the file.
    #[error("{}: cannot read config: {source}", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The TOML is malformed, or a value has the wrong type or format, or a key is unknown.
    /// `path` is the key path; it is empty for a syntax error, whose message then gives
    /// the line and column.
    #[error("{}", parse_line(file, path, message))]
    Parse {
        /// The config file.
        file: String,
        /// The key path (may be empty for a TOML syntax error).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The file parsed, but the semantic checks found problems: all of them, in file order.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<ConfigError>),
}

impl LoadError {
    /// The exit code the engine uses for this error: always [`EXIT_CODE`] (64).
    pub fn exit_code(&self) -> i32 {
        EXIT_CODE
    }

    /// Every problem as a `FILE: path: message` line, for printing one per line.
    pub fn lines(&self) -> Vec<String> {
        match self {
            LoadError::Invalid(errors) => errors.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

fn parse_line(file: &str, path: &str, message: &str) -> String {
    if path.is_empty() {
        format!("{file}: {message}")
    } else {
        format!("{file}: {path}: {message}")
    }
}

fn join_lines(errors: &[ConfigError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Collects semantic errors for one file during validation.
#[derive(Debug)]
pub(crate) struct Errors {
    file: String,
    list: Vec<ConfigError>,
}

impl Errors {
    pub(crate) fn new(file: &str) -> Self {
        Errors {
            file: file.to_owned(),
            list: Vec::new(),
        }
    }

    /// Records that the key at `path` is wrong.
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.list.push(ConfigError {
            file: self.file.clone(),
            path: path.into(),
            message: message.into(),
        });
    }

    /// Records `must be LO..=HI, got V` unless `value` is in range.
    pub(crate) fn range<T: PartialOrd + fmt::Display>(
        &mut self,
        path: impl Into<String>,
        value: T,
        lo: T,
        hi: T,
    ) {
        if value < lo || value > hi {
            self.push(path, format!("must be {lo}..={hi}, got {value}"));
        }
    }

    pub(crate) fn into_result(self) -> Result<(), LoadError> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(LoadError::Invalid(self.list))
        }
    }
}
