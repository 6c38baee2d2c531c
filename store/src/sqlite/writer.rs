//! The SQLite writer thread: drains every queued request, applies them all in one
//! transaction, commits once (one fsync), then answers every waiter.
//!
//! If the group fails, each request is retried in its own transaction, so a failing request
//! is answered with its error and the others still commit.

use super::apply::{Statements, apply};
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
    let results = if n_ops == 0 {
        // Only flushes: everything before them is already committed.
        group.iter().map(|_| Ok(WriteResult::default())).collect()
    } else {
        write_group(conn, group)
    };
    let left = pending.fetch_sub(n_ops, Ordering::Relaxed) - n_ops;
    metrics::gauge!(m::BACKLOG, "backend" => "sqlite").set(left as f64);
    metrics::histogram!(m::COMMIT_OPS, "backend" => "sqlite").record(n_ops as f64);
    for ((_, reply), result) in group.drain(..).zip(results) {
        let _ = reply.send(result);
    }
}

fn write_group(conn: &mut Connection, group: &[Waiter]) -> Vec<Result<WriteResult, StoreError>> {
    // Optimistic: the whole group in one transaction, no savepoints (a savepoint makes SQLite
    // copy every page it touches to a sub-journal, which costs a third of the writer's time).
    match write_all(conn, group) {
        Ok(results) => return results.into_iter().map(Ok).collect(),
        Err(e) if group.len() == 1 => {
            let _ = conn.execute_batch("ROLLBACK");
            return vec![Err(e)];
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::warn!(error = %e, callers = group.len(), "Store group commit failed; retrying each write alone.");
        }
    }
    // One write failed: give each its own transaction so only that one fails.
    let mut results = Vec::with_capacity(group.len());
    for w in group {
        let r = write_all(conn, std::slice::from_ref(w));
        if r.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        results.push(r.map(|mut v| v.pop().unwrap_or_default()));
    }
    results
}

/// Every write of `group` in one transaction; the caller rolls back on error.
fn write_all(conn: &Connection, group: &[Waiter]) -> Result<Vec<WriteResult>, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut stmts = Statements::new(conn);
    let mut results = Vec::with_capacity(group.len());
    for (ops, _) in group {
        results.push(apply(&mut stmts, ops)?);
    }
    drop(stmts);
    conn.execute_batch("COMMIT")?;
    Ok(results)
}
