//! The PostgreSQL writer task: drains every queued request and writes them in one
//! transaction on one connection (so receipt `seq` order is commit order). If the group
//! fails, each request is retried in its own transaction, so one bad write fails alone.

use super::batch::write_group;
use crate::StoreError;
use crate::model::{WriteOp, WriteResult};
use crate::queue::{Gathered, Waiter, Writer, nothing_to_write};
use deadpool_postgres::Pool;
use std::convert::Infallible;
use std::sync::Arc;

/// Run the writer until every caller is gone or a stop arrives.
pub(crate) async fn run(pool: Pool, mut writer: Writer<Infallible>) {
    let mut group: Vec<Waiter> = Vec::new();
    while let Some(first) = writer.recv().await {
        let gathered = writer.gather(first, &mut group);
        if !group.is_empty() {
            let results = match nothing_to_write(&group) {
                Some(r) => r,
                None => write_all(&pool, &group).await,
            };
            writer.answer(&mut group, results);
        }
        match gathered {
            Gathered::Commit => {}
            Gathered::Other(never) => match never {},
            Gathered::Stop(done) => {
                let _ = done.send(());
                return;
            }
        }
    }
}

async fn write_all(pool: &Pool, group: &[Waiter]) -> Vec<Result<WriteResult, StoreError>> {
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
