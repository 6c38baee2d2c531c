//! The PostgreSQL backend: a small connection pool (deadpool-postgres, which reconnects),
//! one writer task that group-commits column arrays (`unnest`), reads on pooled connections.

mod batch;
mod migrate;
mod read;
mod types;
mod writer;

use crate::metrics as m;
use crate::model::*;
use crate::sqlite::record;
use crate::{Store, StoreError, validate};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::future::BoxFuture;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};
use writer::Request;

/// Requests queued for the writer at most; `write` waits (asynchronously) beyond that.
const QUEUE: usize = 4096;
/// Connections: one for the writer, the rest for reads.
const POOL_SIZE: usize = 4;

/// The PostgreSQL store. See [`crate::open`] for its URL.
#[derive(Clone)]
pub(crate) struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    tx: mpsc::Sender<Request>,
    pending: Arc<AtomicUsize>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pending", &self.inner.pending.load(Ordering::Relaxed))
            .field("pool", &self.inner.pool.status())
            .finish()
    }
}

impl PgStore {
    /// Connect, migrate, start the writer task.
    pub(crate) async fn open(url: &str) -> Result<Self, StoreError> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| StoreError::InvalidUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        {
            let mut client = pool
                .get()
                .await
                .map_err(|e| StoreError::Pool(e.to_string()))?;
            migrate::migrate(&mut client).await?;
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(writer::run(pool.clone(), rx, pending.clone()));
        Ok(PgStore {
            inner: Arc::new(Inner { pool, tx, pending }),
        })
    }

    /// Run `f` on a pooled connection.
    fn read<T, F>(&self, f: F) -> BoxFuture<'static, Result<T, StoreError>>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c deadpool_postgres::Client) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let pool = self.inner.pool.clone();
        Box::pin(async move {
            let client = pool
                .get()
                .await
                .map_err(|e| StoreError::Pool(e.to_string()))?;
            f(&client).await
        })
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn write(&self, ops: Vec<WriteOp>) -> BoxFuture<'static, Result<WriteResult, StoreError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            validate::check_ops(&ops)?;
            let start = tokio::time::Instant::now();
            let n = ops.len();
            let left = inner.pending.fetch_add(n, Ordering::Relaxed) + n;
            metrics::gauge!(m::BACKLOG, "backend" => "postgres").set(left as f64);
            let (reply, answer) = oneshot::channel();
            if inner.tx.send(Request::Write { ops, reply }).await.is_err() {
                inner.pending.fetch_sub(n, Ordering::Relaxed);
                return Err(StoreError::Closed);
            }
            let result = answer.await.map_err(|_| StoreError::Closed)?;
            metrics::histogram!(m::WRITE_SECONDS, "backend" => "postgres")
                .record(start.elapsed().as_secs_f64());
            record(&result, "postgres");
            result
        })
    }

    fn receipts_after(
        &self,
        cursor: i64,
        limit: u32,
        account: Option<&str>,
    ) -> BoxFuture<'static, Result<ReceiptPage, StoreError>> {
        let account = account.map(str::to_owned);
        self.read(move |c| {
            Box::pin(
                async move { read::receipts_after(c, cursor, limit, account.as_deref()).await },
            )
        })
    }

    fn dispatch(&self, id: u64) -> BoxFuture<'static, Result<Option<DispatchView>, StoreError>> {
        self.read(move |c| Box::pin(read::dispatch_view(c, id)))
    }

    fn campaign(&self, id: u64) -> BoxFuture<'static, Result<Option<CampaignRow>, StoreError>> {
        self.read(move |c| Box::pin(read::campaign(c, id)))
    }

    fn campaign_counts(
        &self,
        campaign: u64,
    ) -> BoxFuture<'static, Result<Vec<StateCount>, StoreError>> {
        self.read(move |c| Box::pin(read::campaign_counts(c, campaign)))
    }

    fn history(
        &self,
        msisdn: u64,
        account: Option<&str>,
    ) -> BoxFuture<'static, Result<Vec<HistoryRow>, StoreError>> {
        let account = account.map(str::to_owned);
        self.read(move |c| {
            Box::pin(async move { read::history(c, msisdn, account.as_deref()).await })
        })
    }

    fn unfinished(&self) -> BoxFuture<'static, Result<Vec<Unfinished>, StoreError>> {
        self.read(|c| Box::pin(read::unfinished(c)))
    }

    fn balances(&self) -> BoxFuture<'static, Result<Vec<Balance>, StoreError>> {
        self.read(|c| Box::pin(read::balances(c)))
    }

    fn last_dispatch_to(
        &self,
        account: Option<&str>,
        msisdn: u64,
    ) -> BoxFuture<'static, Result<Option<(u64, String)>, StoreError>> {
        let account = account.map(str::to_owned);
        self.read(move |c| {
            Box::pin(async move { read::last_dispatch_to(c, account.as_deref(), msisdn).await })
        })
    }

    fn feedback_for(
        &self,
        key: FeedbackKey,
    ) -> BoxFuture<'static, Result<Vec<StoredFeedback>, StoreError>> {
        self.read(move |c| Box::pin(read::feedback_for(c, key)))
    }

    fn audio_get(&self, id: &str) -> BoxFuture<'static, Result<Option<AudioRow>, StoreError>> {
        let id = id.to_owned();
        self.read(move |c| Box::pin(async move { read::audio_get(c, &id).await }))
    }

    fn ping(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        let closed = self.inner.tx.is_closed();
        let q = self.read(|c| {
            Box::pin(async move {
                c.simple_query("SELECT 1").await?;
                Ok(())
            })
        });
        Box::pin(async move {
            if closed {
                return Err(StoreError::Closed);
            }
            q.await
        })
    }

    fn pending_writes(&self) -> usize {
        self.inner.pending.load(Ordering::Relaxed)
    }

    fn close(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let (done, stopped) = oneshot::channel();
            inner
                .tx
                .send(Request::Stop(done))
                .await
                .map_err(|_| StoreError::Closed)?;
            let _ = stopped.await;
            inner.pool.close();
            Ok(())
        })
    }
}
