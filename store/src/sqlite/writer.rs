//! The SQLite writer thread: drains every queued request, applies them all in one
//! transaction, commits once (one fsync), then answers every waiter.
//!
//! If the group fails, each request is retried in its own transaction, so a failing request
//! is answered with its error and the others still commit.

use super::apply::{Statements, apply};
use super::raw::RawStatements;
use crate::StoreError;
use crate::model::WriteResult;
use crate::queue::{Gathered, Waiter, Writer, nothing_to_write};
use rusqlite::Connection;

/// A read run on the writer's connection (in-memory databases have no reader pool).
pub(crate) type ReadFn = Box<dyn FnOnce(&Connection) + Send>;

/// Run the writer until every caller is gone or a stop arrives.
pub(crate) fn run(mut conn: Connection, mut writer: Writer<ReadFn>) {
    // Declared after `conn`, so dropped (finalized) before it closes.
    let mut raw = RawStatements::default();
    let mut group: Vec<Waiter> = Vec::new();
    while let Some(first) = writer.blocking_recv() {
        let gathered = writer.gather(first, &mut group);
        commit_group(&mut conn, &mut raw, &mut group, &writer);
        match gathered {
            Gathered::Commit => {}
            // Reads see everything committed before them: the group is committed first.
            Gathered::Other(read) => read(&conn),
            Gathered::Stop(done) => {
                let _ = done.send(());
                return;
            }
        }
    }
}

fn commit_group(
    conn: &mut Connection,
    raw: &mut RawStatements,
    group: &mut Vec<Waiter>,
    writer: &Writer<ReadFn>,
) {
    if group.is_empty() {
        return;
    }
    let results = nothing_to_write(group).unwrap_or_else(|| write_group(conn, raw, group));
    writer.answer(group, results);
}

fn write_group(
    conn: &mut Connection,
    raw: &mut RawStatements,
    group: &[Waiter],
) -> Vec<Result<WriteResult, StoreError>> {
    // Optimistic: the whole group in one transaction, no savepoints (a savepoint makes SQLite
    // copy every page it touches to a sub-journal, which costs a third of the writer's time).
    match write_all(conn, raw, group) {
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
        let r = write_all(conn, raw, std::slice::from_ref(w));
        if r.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        results.push(r.map(|mut v| v.pop().unwrap_or_default()));
    }
    results
}

/// Every write of `group` in one transaction; the caller rolls back on error.
fn write_all(
    conn: &Connection,
    raw: &mut RawStatements,
    group: &[Waiter],
) -> Result<Vec<WriteResult>, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut stmts = Statements::new(conn, raw);
    let mut results = Vec::with_capacity(group.len());
    for (ops, _) in group {
        results.push(apply(&mut stmts, ops)?);
    }
    drop(stmts);
    conn.execute_batch("COMMIT")?;
    Ok(results)
}
