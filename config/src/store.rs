//! `[store]`: where dispatches, receipts and balances live — SQLite (default) or PostgreSQL.
//!
//! ```
//! use sendbox_config::StoreUrl;
//! let pg = StoreUrl::parse("postgres://sendbox:s3cret@db:5432/sendbox").unwrap();
//! assert_eq!(pg.redacted(), "postgres://sendbox:***@db:5432/sendbox");
//! assert!(!format!("{pg:?}").contains("s3cret"));
//! ```

use crate::Secret;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::{Path, PathBuf};

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite:PATH` (relative to the config file's directory), `sqlite::memory:`, or a
    /// `postgres://` / `postgresql://` URL. Default `sqlite:sendbox.db`.
    #[serde(default = "default_url")]
    pub url: StoreUrl,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { url: default_url() }
    }
}

fn default_url() -> StoreUrl {
    StoreUrl::Sqlite(PathBuf::from("sendbox.db"))
}

/// A parsed store URL. Debug and Display print [`StoreUrl::redacted`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreUrl {
    /// A SQLite database file; relative paths are resolved against the config directory at load.
    Sqlite(PathBuf),
    /// An in-memory SQLite database (`sqlite::memory:`), for tests.
    SqliteMemory,
    /// A PostgreSQL URL, kept whole (it may hold a password) for the driver.
    Postgres(Secret),
}

impl StoreUrl {
    /// Parses a store URL. The error never quotes the URL (a postgres URL may hold a password).
    pub fn parse(text: &str) -> Result<StoreUrl, String> {
        if let Some(rest) = text.strip_prefix("sqlite:") {
            if rest == ":memory:" {
                return Ok(StoreUrl::SqliteMemory);
            }
            // `sqlite://rel/path` and `sqlite:///abs/path` are accepted too.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err("sqlite: needs a file path, e.g. \"sqlite:sendbox.db\"".into());
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        let rest = text
            .strip_prefix("postgres://")
            .or_else(|| text.strip_prefix("postgresql://"))
            .ok_or("must start with \"sqlite:\", \"postgres://\" or \"postgresql://\"")?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if host.is_empty() {
            return Err("a postgres URL needs a host, e.g. \"postgres://user@db/sendbox\"".into());
        }
        Ok(StoreUrl::Postgres(Secret::new(text)))
    }

    /// The URL with any password replaced by `***` (the userinfo password and a `password=`
    /// query parameter); safe for logs and `check-config`.
    pub fn redacted(&self) -> String {
        match self {
            StoreUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            StoreUrl::SqliteMemory => "sqlite::memory:".to_owned(),
            StoreUrl::Postgres(url) => redact_postgres(url.expose()),
        }
    }

    /// Resolves a relative SQLite path against `base`.
    pub(crate) fn resolve(&mut self, base: &Path) {
        if let StoreUrl::Sqlite(path) = self {
            *path = crate::paths::resolve(base, path);
        }
    }
}

fn redact_postgres(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({})", self.redacted())
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for StoreUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        StoreUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_forms_parse_to_a_path() {
        assert_eq!(
            StoreUrl::parse("sqlite:a.db"),
            Ok(StoreUrl::Sqlite("a.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/x.db"),
            Ok(StoreUrl::Sqlite("/var/x.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("sqlite::memory:"),
            Ok(StoreUrl::SqliteMemory)
        );
        assert!(StoreUrl::parse("sqlite:").is_err());
    }

    #[test]
    fn postgres_password_is_redacted_everywhere() {
        let u = StoreUrl::parse("postgresql://u:pw@h/db?sslmode=require&password=pw2").unwrap();
        let shown = format!("{u} {u:?} {}", u.redacted());
        assert!(!shown.contains("pw@") && !shown.contains("pw2"), "{shown}");
        assert_eq!(
            u.redacted(),
            "postgresql://u:***@h/db?sslmode=require&password=***"
        );
        assert_eq!(
            StoreUrl::parse("postgres://h").unwrap().redacted(),
            "postgres://h"
        );
    }

    #[test]
    fn other_schemes_and_hostless_urls_are_rejected_without_echo() {
        let e = StoreUrl::parse("mysql://u:secretpw@h/db").unwrap_err();
        assert!(!e.contains("secretpw"));
        assert!(StoreUrl::parse("postgres://u:secretpw@/db").is_err());
    }
}
