//! The SQLite writer thread: drains every queued request, applies each in its own savepoint
//! inside one transaction, commits once (one fsync), then answers every waiter.
//!
//! A failing request is rolled back to its savepoint and answered with its error; the others
//! in the group still commit.

use super::apply::apply;
use crate::StoreError;
use crate::metrics as m;
use crate::model::{WriteOp, WriteResult};
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Ops per transaction at most: bounds the time other callers wait behind a huge group.
const MAX_GROUP_OPS: usize = 50_000;

/// A read run on the writer's connection (in-memory databases have no reader pool).
pub(crate) type ReadFn = Box<dyn FnOnce(&Connection) + Send>;

/// What the writer thread is asked to do.
pub(crate) enum Request {
    /// Store these ops and answer.
    Write {
        ops: Vec<WriteOp>,
        reply: oneshot::Sender<Result<WriteResult, StoreError>>,
    },
    /// Run a read between transactions.
    Read(ReadFn),
    /// Finish what is queued before this, then stop.
    Stop(oneshot::Sender<()>),
}

/// Run the writer until every sender is gone or a `Stop` arrives.
pub(crate) fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Request>,
    pending: Arc<AtomicUsize>,
) {
    let mut group: Vec<Waiter> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        let mut stop = None;
        let mut ops = 0;
        while let Some(req) = next.take() {
            match req {
                Request::Write { ops: o, reply } => {
                    ops += o.len();
                    group.push((o, reply));
                }
                Request::Read(f) => {
                    // Reads see everything committed before them: commit what is pending first.
                    commit_group(&mut conn, &mut group, &pending);
                    f(&conn);
                    ops = 0;
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
        commit_group(&mut conn, &mut group, &pending);
        if let Some(done) = stop {
            let _ = done.send(());
            return;
        }
    }
}

type Waiter = (
    Vec<WriteOp>,
    oneshot::Sender<Result<WriteResult, StoreError>>,
);

fn commit_group(conn: &mut Connection, group: &mut Vec<Waiter>, pending: &AtomicUsize) {
    if group.is_empty() {
        return;
    }
    let n_ops: usize = group.iter().map(|(o, _)| o.len()).sum();
    let results = match write_group(conn, group) {
        Ok(results) => results,
        Err(e) => {
            // The transaction is gone: every caller of the group fails with the same cause.
            let _ = conn.execute_batch("ROLLBACK");
            let msg: Arc<str> = e.to_string().into();
            tracing::warn!(error = %msg, ops = n_ops, "Store group commit failed.");
            group
                .iter()
                .map(|_| Err(StoreError::Commit(msg.clone())))
                .collect()
        }
    };
    let left = pending.fetch_sub(n_ops, Ordering::Relaxed) - n_ops;
    metrics::gauge!(m::BACKLOG, "backend" => "sqlite").set(left as f64);
    metrics::histogram!(m::COMMIT_OPS, "backend" => "sqlite").record(n_ops as f64);
    for ((_, reply), result) in group.drain(..).zip(results) {
        let _ = reply.send(result);
    }
}

fn write_group(
    conn: &mut Connection,
    group: &[Waiter],
) -> Result<Vec<Result<WriteResult, StoreError>>, rusqlite::Error> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut results = Vec::with_capacity(group.len());
    for (ops, _) in group {
        if ops.is_empty() {
            results.push(Ok(WriteResult::default()));
            continue;
        }
        conn.execute_batch("SAVEPOINT w")?;
        match apply(conn, ops) {
            Ok(r) => {
                conn.execute_batch("RELEASE w")?;
                results.push(Ok(r));
            }
            Err(e) => {
                conn.execute_batch("ROLLBACK TO w; RELEASE w")?;
                results.push(Err(e));
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(results)
}
