//! The PostgreSQL writer task: drains every queued request and writes them in one
//! transaction on one connection (so receipt `seq` order is commit order). If the group
//! fails, each request is retried in its own transaction, so one bad write fails alone.

use super::batch::write_group;
use crate::StoreError;
use crate::metrics as m;
use crate::model::{WriteOp, WriteResult};
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Ops per transaction at most.
const MAX_GROUP_OPS: usize = 50_000;

type Reply = oneshot::Sender<Result<WriteResult, StoreError>>;

/// What the writer task is asked to do.
pub(crate) enum Request {
    /// Store these ops and answer.
    Write { ops: Vec<WriteOp>, reply: Reply },
    /// Finish what is queued before this, then stop.
    Stop(oneshot::Sender<()>),
}

/// Run the writer until every sender is gone or a `Stop` arrives.
pub(crate) async fn run(pool: Pool, mut rx: mpsc::Receiver<Request>, pending: Arc<AtomicUsize>) {
    let mut group: Vec<(Vec<WriteOp>, Reply)> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut stop = None;
        let mut ops = 0;
        while let Some(req) = next.take() {
            match req {
                Request::Write { ops: o, reply } => {
                    ops += o.len();
                    group.push((o, reply));
                }
                Request::Stop(done) => {
                    stop = Some(done);
                    break;
                }
            }
            if ops < MAX_GROUP_OPS {
                next = rx.try_recv().ok();
            }
        }
        commit(&pool, &mut group, &pending).await;
        if let Some(done) = stop {
            let _ = done.send(());
            return;
        }
    }
}

async fn commit(pool: &Pool, group: &mut Vec<(Vec<WriteOp>, Reply)>, pending: &AtomicUsize) {
    if group.is_empty() {
        return;
    }
    let n_ops: usize = group.iter().map(|(o, _)| o.len()).sum();
    let results = if n_ops == 0 {
        // Only flushes: nothing to write, everything before them is already committed.
        group.iter().map(|_| Ok(WriteResult::default())).collect()
    } else {
        write_all(pool, group).await
    };
    let left = pending.fetch_sub(n_ops, Ordering::Relaxed) - n_ops;
    metrics::gauge!(m::BACKLOG, "backend" => "postgres").set(left as f64);
    metrics::histogram!(m::COMMIT_OPS, "backend" => "postgres").record(n_ops as f64);
    for ((_, reply), result) in group.drain(..).zip(results) {
        let _ = reply.send(result);
    }
}

async fn write_all(
    pool: &Pool,
    group: &[(Vec<WriteOp>, Reply)],
) -> Vec<Result<WriteResult, StoreError>> {
    let mut client = match pool.get().await {
        Ok(c) => c,
        Err(e) => {
            let msg: Arc<str> = format!("no connection: {e}").into();
            return group
                .iter()
                .map(|_| Err(StoreError::Commit(msg.clone())))
                .collect();
        }
    };
    let callers: Vec<&[WriteOp]> = group.iter().map(|(o, _)| o.as_slice()).collect();
    let err = match write_group(&mut client, &callers).await {
        Ok(results) => return results.into_iter().map(Ok).collect(),
        Err(e) => e,
    };
    if group.len() == 1 {
        return vec![Err(err)];
    }
    tracing::warn!(error = %err, callers = group.len(), "Store group commit failed; retrying each write alone.");
    let mut results = Vec::with_capacity(group.len());
    for ops in callers {
        if client.is_closed() {
            match pool.get().await {
                Ok(c) => client = c,
                Err(e) => {
                    results.push(Err(StoreError::Pool(e.to_string())));
                    continue;
                }
            }
        }
        let r = write_group(&mut client, &[ops]).await;
        results.push(r.map(|mut v| v.pop().unwrap_or_default()));
    }
    results
}
