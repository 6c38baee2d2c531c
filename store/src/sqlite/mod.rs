//! The SQLite backend: WAL, one writer thread with group commit, a small pool of reader
//! connections (WAL lets them read while the writer writes).

mod apply;
mod batch;
mod checkpoint;
mod config;
mod migrate;
mod pcache;
mod raw;
mod read;
mod writer;

use crate::model::*;
use crate::queue::WriteQueue;
use crate::{Store, StoreError};
use futures::future::BoxFuture;
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

pub(crate) use pcache::truncations_skipped as cache_truncations_skipped;

/// The SQLite store. See [`crate::open`] for its URL.
#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    queue: WriteQueue<writer::ReadFn>,
    /// Idle reader connections; empty channel pair when the database is in memory.
    readers: Option<(
        crossbeam_channel::Sender<Connection>,
        crossbeam_channel::Receiver<Connection>,
    )>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("queue", &self.queue)
            .field("readers", &self.readers.is_some())
            .finish()
    }
}

struct Options {
    path: Option<PathBuf>,
    synchronous: &'static str,
    readers: usize,
}

fn parse(url: &str, rest: &str) -> Result<Options, StoreError> {
    let bad = |reason: String| StoreError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.strip_prefix("//").unwrap_or(path);
    let mut o = Options {
        path: (path != ":memory:").then(|| PathBuf::from(path)),
        synchronous: "FULL",
        readers: 2,
    };
    if path.is_empty() {
        return Err(bad("empty path".into()));
    }
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        match kv.split_once('=') {
            Some(("synchronous", "full")) => o.synchronous = "FULL",
            Some(("synchronous", "normal")) => o.synchronous = "NORMAL",
            Some(("synchronous", "off")) => o.synchronous = "OFF",
            Some(("readers", n)) => {
                o.readers = n
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| bad(format!("readers={n}: expected 1..=64")))?;
            }
            _ => {
                return Err(bad(format!(
                    "unknown parameter {kv:?} (synchronous, readers)"
                )));
            }
        }
    }
    Ok(o)
}

impl SqliteStore {
    /// Open `rest` (the URL after `sqlite:`), migrate, start the writer thread.
    pub(crate) fn open(url: &str, rest: &str) -> Result<Self, StoreError> {
        let o = parse(url, rest)?;
        let settings = config::configure();
        if !(settings.memory_statistics_off && settings.page_cache_wrapped) {
            tracing::debug!(
                ?settings,
                "SQLite was initialized before the store: some process-wide settings stay SQLite's defaults."
            );
        }
        let mut conn = match &o.path {
            Some(p) => Connection::open(p)?,
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        if o.path.is_some() {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "synchronous", o.synchronous)?;
        // 64 MiB of page cache for the writer: index pages of the big tables stay hot.
        conn.pragma_update(None, "cache_size", -65536)?;
        // Statement journals in memory: a multi-row insert keeps one (it could fail halfway),
        // and past 64 KiB SQLite spilled it to a temporary file, a pwrite per page (7 % of the
        // engine's samples in a throughput run).
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoints run on their own thread (`checkpoint`); the writer's own is a backstop.
        if let Some(p) = &o.path {
            checkpoint::install(&mut conn, p, checkpoint::PAGES)?;
        }
        conn.set_prepared_statement_cache_capacity(32);
        migrate::migrate(&mut conn)?;

        let readers = match &o.path {
            Some(p) => {
                let (tx, rx) = crossbeam_channel::bounded(o.readers);
                for _ in 0..o.readers {
                    let r = Connection::open_with_flags(
                        p,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    r.busy_timeout(std::time::Duration::from_secs(5))?;
                    r.set_prepared_statement_cache_capacity(32);
                    // The channel has room for exactly `readers` connections.
                    tx.send(r).expect("reader pool has room");
                }
                Some((tx, rx))
            }
            None => None,
        };

        let (queue, w) = WriteQueue::new("sqlite");
        std::thread::Builder::new()
            .name("sendbox-store-sqlite".into())
            .spawn(move || writer::run(conn, w))
            .map_err(|e| StoreError::Commit(format!("cannot start writer thread: {e}").into()))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner { queue, readers }),
        })
    }

    /// Run `f` on a reader connection (on a blocking thread), or on the writer's connection
    /// for an in-memory database.
    fn read<T, F>(&self, f: F) -> BoxFuture<'static, Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        Box::pin(async move {
            match &inner.readers {
                Some((tx, rx)) => {
                    let (tx, rx) = (tx.clone(), rx.clone());
                    tokio::task::spawn_blocking(move || {
                        let conn = rx.recv().map_err(|_| StoreError::Closed)?;
                        let r = f(&conn);
                        let _ = tx.send(conn);
                        r
                    })
                    .await
                    .map_err(|_| StoreError::Closed)?
                }
                None => {
                    let (reply, answer) = oneshot::channel();
                    let job: writer::ReadFn = Box::new(move |conn| {
                        let _ = reply.send(f(conn));
                    });
                    inner.queue.send(job).await?;
                    answer.await.map_err(|_| StoreError::Closed)?
                }
            }
        })
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn write_returning(
        &self,
        ops: Vec<WriteOp>,
    ) -> BoxFuture<'static, (Result<WriteResult, StoreError>, Vec<WriteOp>)> {
        self.inner.queue.write(ops)
    }

    fn receipts_after(
        &self,
        cursor: i64,
        limit: u32,
        account: Option<&str>,
    ) -> BoxFuture<'static, Result<ReceiptPage, StoreError>> {
        let account = account.map(str::to_owned);
        self.read(move |c| read::receipts_after(c, cursor, limit, account.as_deref()))
    }

    fn campaign_receipts(
        &self,
        campaign: u64,
        cursor: i64,
        limit: u32,
    ) -> BoxFuture<'static, Result<ReceiptPage, StoreError>> {
        self.read(move |c| read::campaign_receipts(c, campaign, cursor, limit))
    }

    fn dispatch(&self, id: u64) -> BoxFuture<'static, Result<Option<DispatchView>, StoreError>> {
        self.read(move |c| read::dispatch_view(c, id))
    }

    fn campaign(&self, id: u64) -> BoxFuture<'static, Result<Option<CampaignRow>, StoreError>> {
        self.read(move |c| read::campaign(c, id))
    }

    fn campaign_counts(
        &self,
        campaign: u64,
    ) -> BoxFuture<'static, Result<Vec<StateCount>, StoreError>> {
        self.read(move |c| read::campaign_counts(c, campaign))
    }

    fn history(
        &self,
        msisdn: u64,
        account: Option<&str>,
    ) -> BoxFuture<'static, Result<Vec<HistoryRow>, StoreError>> {
        let account = account.map(str::to_owned);
        self.read(move |c| read::history(c, msisdn, account.as_deref()))
    }

    fn unfinished(&self) -> BoxFuture<'static, Result<Vec<Unfinished>, StoreError>> {
        self.read(read::unfinished)
    }

    fn balances(&self) -> BoxFuture<'static, Result<Vec<Balance>, StoreError>> {
        self.read(read::balances)
    }

    fn last_dispatch_to(
        &self,
        account: Option<&str>,
        msisdn: u64,
    ) -> BoxFuture<'static, Result<Option<(u64, String)>, StoreError>> {
        let account = account.map(str::to_owned);
        self.read(move |c| read::last_dispatch_to(c, account.as_deref(), msisdn))
    }

    fn feedback_for(
        &self,
        key: FeedbackKey,
    ) -> BoxFuture<'static, Result<Vec<StoredFeedback>, StoreError>> {
        self.read(move |c| read::feedback_for(c, key))
    }

    fn audio_get(&self, id: &str) -> BoxFuture<'static, Result<Option<AudioRow>, StoreError>> {
        let id = id.to_owned();
        self.read(move |c| read::audio_get(c, &id))
    }

    fn ping(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        let closed = self.inner.queue.is_closed();
        let q = self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?));
        Box::pin(async move {
            if closed {
                return Err(StoreError::Closed);
            }
            q.await.map(|_| ())
        })
    }

    fn pending_writes(&self) -> usize {
        self.inner.queue.pending()
    }

    fn close(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        let queue = self.inner.queue.clone();
        Box::pin(async move { queue.close().await })
    }
}
