//! Billing store, history and outbox: SQLite (embedded) and PostgreSQL backends.
//!
//! The engine stores an accepted dispatch before the API answers 202 (the durable outbox),
//! records handoffs and final receipts (one per dispatch: writing it twice bills once), every
//! ledger movement, replies and DTMF input, campaigns and audio prompts. On restart it reads
//! [`Store::unfinished`] and [`Store::balances`] to continue where it stopped.
//!
//! Writes go to one writer per store that group-commits everything queued (one transaction,
//! one fsync), so many concurrent callers cost one commit.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sendbox_store::StoreError> {
//! let store = sendbox_store::open("sqlite:/var/lib/sendbox/store.db").await?;
//! let page = store.receipts_after(0, 1000, None).await?;
//! println!("{} receipts", page.receipts.len());
//! store.close().await?;
//! # Ok(()) }
//! ```

pub mod error;
pub mod metrics;
pub mod model;
mod postgres;
mod queue;
mod sql;
mod sqlite;
mod store;
pub mod time;
mod validate;

pub use error::StoreError;
pub use model::*;
pub use store::Store;

use std::sync::Arc;

/// How many times the SQLite page cache skipped a post-commit truncation that had nothing to
/// drop, in this process (see the SQLite backend's `pcache`); 0 if SQLite was initialized
/// before the store could wrap its page cache. For tests and diagnostics.
#[doc(hidden)]
pub fn sqlite_cache_truncations_skipped() -> u64 {
    sqlite::cache_truncations_skipped()
}

/// Open (creating and migrating as needed) the store at `url`:
/// - `sqlite:PATH` (or `sqlite://PATH`), with optional `?synchronous=full|normal|off`
///   (default `full`: a commit survives power loss) and `&readers=N` (default 2);
/// - `sqlite::memory:` — private to this store, for tests;
/// - `postgres://user@host:port/db` (or `postgresql://`), any libpq parameter, e.g.
///   `?options=-c%20search_path%3Dmy_schema`.
///
/// Must be called inside a tokio runtime (PostgreSQL connections are driven by tasks).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let store = sqlite::SqliteStore::open(url, rest)?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::open(url).await?;
        Ok(Arc::new(store))
    } else {
        Err(StoreError::InvalidUrl {
            url: url.to_string(),
            reason: "expected sqlite:PATH, sqlite::memory: or postgres://".into(),
        })
    }
}
