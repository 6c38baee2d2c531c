//! The PostgreSQL backend: a small connection pool (deadpool-postgres, which reconnects),
//! one writer task that group-commits column arrays (`unnest`), reads on pooled connections.

mod batch;
mod migrate;
mod read;
mod types;
mod writer;

use crate::model::*;
use crate::queue::WriteQueue;
use crate::{Store, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::future::BoxFuture;
use std::convert::Infallible;
use std::str::FromStr;
use std::sync::Arc;
/// Connections: one for the writer, the rest for reads.
const POOL_SIZE: usize = 4;

/// The PostgreSQL store. See [`crate::open`] for its URL.
#[derive(Clone)]
pub(crate) struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    queue: WriteQueue<Infallible>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("queue", &self.inner.queue)
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
        let (queue, w) = WriteQueue::new("postgres");
        tokio::spawn(writer::run(pool.clone(), w));
        Ok(PgStore {
            inner: Arc::new(Inner { pool, queue }),
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
        self.read(move |c| {
            Box::pin(
                async move { read::receipts_after(c, cursor, limit, account.as_deref()).await },
            )
        })
    }

    fn campaign_receipts(
        &self,
        campaign: u64,
        cursor: i64,
        limit: u32,
    ) -> BoxFuture<'static, Result<ReceiptPage, StoreError>> {
        self.read(move |c| Box::pin(read::campaign_receipts(c, campaign, cursor, limit)))
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
        let closed = self.inner.queue.is_closed();
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
        self.inner.queue.pending()
    }

    fn close(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            inner.queue.close().await?;
            inner.pool.close();
            Ok(())
        })
    }
}
