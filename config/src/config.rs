//! The whole file: [`Config`], and [`load`] / [`from_str`], which parse, resolve paths and
//! validate before the engine binds any port.
//!
//! ```
//! let text = r#"
//! [operators.kcell]
//! name = "Kcell"
//! prefixes = ["701"]
//! [operators.kcell.smpp]
//! binds = [{ host = "127.0.0.1", system_id = "sb", password = "pw" }]
//! [tariffs.kcell]
//! sms_segment_tiyn = 1200
//! "#;
//! let config = sendbox_config::from_str(text, "inline.toml", std::path::Path::new(".")).unwrap();
//! assert_eq!(config.operators[0].id, "kcell");
//! ```

use crate::{
    AccountConfig, ApiConfig, BlacklistConfig, LoadError, LoggingConfig, MetricsConfig,
    OperatorConfig, QueuesConfig, StoreConfig, Tariff, VoiceConfig, WindowConfig, paths,
};
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The engine's configuration, validated. Maps keep the file's order: operator `i` in
/// `operators` is `OperatorId(i)`, account `i` is `AccountId(i)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The file this was loaded from (as given), or the name given to [`from_str`].
    #[serde(skip)]
    pub file: String,
    /// `[api]`.
    #[serde(default)]
    pub api: ApiConfig,
    /// `[metrics]`.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[operators.<id>]`, in file order (at least one).
    #[serde(default)]
    pub operators: IndexMap<String, OperatorConfig>,
    /// `[tariffs.<operator_id>]`: exactly one per operator.
    #[serde(default)]
    pub tariffs: IndexMap<String, Tariff>,
    /// `[window]`.
    #[serde(default)]
    pub window: WindowConfig,
    /// `[accounts.<id>]`, in file order.
    #[serde(default)]
    pub accounts: IndexMap<String, AccountConfig>,
    /// `[blacklist]`.
    #[serde(default)]
    pub blacklist: BlacklistConfig,
    /// `[queues]`.
    #[serde(default)]
    pub queues: QueuesConfig,
    /// `[voice]`.
    #[serde(default)]
    pub voice: VoiceConfig,
    /// `[logging]`.
    #[serde(default)]
    pub logging: LoggingConfig,
}

impl Config {
    /// The operator's position in the file (its `OperatorId`), by id.
    pub fn operator_index(&self, id: &str) -> Option<usize> {
        self.operators.get_index_of(id)
    }

    /// The tariff of operator `id` (validation guarantees one per operator).
    pub fn tariff(&self, operator_id: &str) -> Option<&Tariff> {
        self.tariffs.get(operator_id)
    }
}

/// Reads, parses and validates the config file at `path`. Relative paths inside it are resolved
/// against the file's directory.
pub fn load(path: &Path) -> Result<Config, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    from_str(&text, &path.display().to_string(), &base)
}

/// Parses and validates config `text`; `file` names it in errors, and relative paths are
/// resolved against `base_dir`.
pub fn from_str(text: &str, file: &str, base_dir: &Path) -> Result<Config, LoadError> {
    let mut config = parse(text, file)?;
    config.file = file.to_owned();
    resolve_paths(&mut config, base_dir);
    crate::validate::validate(&mut config)?;
    Ok(config)
}

/// TOML → [`Config`], with the key path of a type error and the line of a syntax error.
fn parse(text: &str, file: &str) -> Result<Config, LoadError> {
    let parse_error = |path: String, message: String| LoadError::Parse {
        file: file.to_owned(),
        path,
        message,
    };
    let de = toml::Deserializer::parse(text)
        .map_err(|e| parse_error(String::new(), syntax_message(text, &e)))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (path, message) = describe(path, inner.message());
        let message = match inner.span() {
            Some(span) if path.is_empty() => {
                format!("{} ({})", message, line_col(text, span.start))
            }
            _ => message,
        };
        parse_error(path, message)
    })
}

/// Turns serde's wording into ours: an unknown key goes into the path; a value under a secret
/// key is never quoted.
fn describe(path: String, message: &str) -> (String, String) {
    let path = if path == "." { String::new() } else { path };
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((key, expected)) = rest.split_once('`')
    {
        // serde_path_to_error usually has the key in the path already; add it if not.
        let full = if path.is_empty() {
            key.to_owned()
        } else if path == key || path.ends_with(&format!(".{key}")) {
            path
        } else {
            format!("{path}.{key}")
        };
        let expected = expected.trim_start_matches(", ");
        return (full, format!("unknown key ({expected})"));
    }
    let last = path.rsplit(['.', '[']).next().unwrap_or_default();
    if [
        "password",
        "auth_password",
        "token_sha256",
        "admin_token_sha256",
    ]
    .contains(&last)
    {
        return (
            path,
            "invalid value (not shown: this key holds a secret); expected a string".into(),
        );
    }
    (path, message.to_owned())
}

/// A TOML syntax error as `line L, column C: message`, without quoting the source line
/// (it could hold a password).
fn syntax_message(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => format!(
            "TOML syntax error at {}: {}",
            line_col(text, span.start),
            e.message()
        ),
        None => format!("TOML syntax error: {}", e.message()),
    }
}

fn line_col(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {col}")
}

/// Fills the ids from the table keys, and makes every file path absolute-or-config-relative.
fn resolve_paths(config: &mut Config, base: &Path) {
    for (id, op) in &mut config.operators {
        op.id.clone_from(id);
        if let Some(p) = &mut op.portability_csv {
            *p = paths::resolve(base, p);
        }
    }
    for (id, account) in &mut config.accounts {
        account.id.clone_from(id);
        if let Some(p) = &mut account.blacklist {
            *p = paths::resolve(base, p);
        }
    }
    for p in &mut config.blacklist.files {
        *p = paths::resolve(base, p);
    }
    config.store.url.resolve(base);
}
