//! The store's error type.

use std::sync::Arc;

/// Everything a store call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// [`crate::open`]: the URL is not `sqlite:PATH`, `sqlite::memory:` or `postgres://...`.
    #[error("invalid store url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Any call on SQLite: the database refused an operation.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Any call on PostgreSQL: the server refused an operation or the connection broke.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// Any call on PostgreSQL: no connection could be had from the pool.
    #[error("postgres pool: {0}")]
    Pool(String),
    /// [`crate::open`]: a migration failed.
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        /// The migration's number.
        version: u32,
        /// Its file name.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// [`crate::open`]: the database was migrated by a newer build than this one.
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew {
        /// The version in the database.
        found: u32,
        /// The newest version this build has.
        known: u32,
    },
    /// [`crate::Store::write`]: an op is invalid; nothing of that write was stored.
    #[error("invalid write: {0}")]
    InvalidWrite(String),
    /// [`crate::Store::write`]: the group commit this write was part of failed; nothing of it
    /// was stored. Shared by every caller of the group, hence an `Arc`.
    #[error("group commit failed: {0}")]
    Commit(Arc<str>),
    /// Any read: a stored value could not be decoded (a column holds an unknown name).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any call after [`crate::Store::close`], or after the writer stopped.
    #[error("store is closed")]
    Closed,
}
