//! The queue between `Store::write` callers and a backend's single writer, shared by SQLite
//! and PostgreSQL: callers' ops are counted as the backlog while they wait, the writer gathers
//! everything queued into one group (one transaction, one commit), and answers each caller
//! with its own result. Only the commit itself is the backend's.

use crate::metrics as m;
use crate::model::{WriteOp, WriteResult};
use crate::{StoreError, validate};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};

/// Requests queued for the writer at most; `write` waits (asynchronously) beyond that.
const QUEUE: usize = 4096;
/// Ops per group at most: bounds the time other callers wait behind a huge group.
pub(crate) const MAX_GROUP_OPS: usize = 50_000;

/// A caller's result, with its ops handed back (see [`crate::Store::write_returning`]).
pub(crate) type Answer = (Result<WriteResult, StoreError>, Vec<WriteOp>);
/// Where a caller's answer goes.
pub(crate) type Reply = oneshot::Sender<Answer>;
/// One caller's ops and where its result goes.
pub(crate) type Waiter = (Vec<WriteOp>, Reply);

/// What a writer is asked to do. `X` is a backend's own request (SQLite: a read on the
/// writer's connection), run between groups.
pub(crate) enum Request<X> {
    /// Store these ops and answer.
    Write(Waiter),
    /// The backend's own request.
    Other(X),
    /// Finish what is queued before this, then stop.
    Stop(oneshot::Sender<()>),
}

/// The callers' side of the queue. Cloning it shares the queue.
pub(crate) struct WriteQueue<X> {
    tx: mpsc::Sender<Request<X>>,
    pending: Arc<AtomicUsize>,
    backend: &'static str,
}

impl<X> Clone for WriteQueue<X> {
    fn clone(&self) -> Self {
        WriteQueue {
            tx: self.tx.clone(),
            pending: self.pending.clone(),
            backend: self.backend,
        }
    }
}

impl<X> std::fmt::Debug for WriteQueue<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteQueue")
            .field("backend", &self.backend)
            .field("pending", &self.pending())
            .finish()
    }
}

impl<X> WriteQueue<X> {
    /// Whether the writer has stopped.
    pub(crate) fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Ops queued and not yet committed.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }
}

impl<X: Send + 'static> WriteQueue<X> {
    /// A queue for `backend` (the metrics label) and the writer's end of it.
    pub(crate) fn new(backend: &'static str) -> (Self, Writer<X>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let pending = Arc::new(AtomicUsize::new(0));
        let writer = Writer {
            rx,
            pending: pending.clone(),
            backend,
        };
        let queue = WriteQueue {
            tx,
            pending,
            backend,
        };
        (queue, writer)
    }

    /// Check `ops`, queue them and wait for their commit; the ops come back with the result.
    pub(crate) fn write(&self, ops: Vec<WriteOp>) -> BoxFuture<'static, Answer> {
        let q = self.clone();
        Box::pin(async move {
            if let Err(e) = validate::check_ops(&ops) {
                return (Err(e), ops);
            }
            let start = tokio::time::Instant::now();
            let n = ops.len();
            let left = q.pending.fetch_add(n, Ordering::Relaxed) + n;
            metrics::gauge!(m::BACKLOG, "backend" => q.backend).set(left as f64);
            // A slot first: a closed queue leaves the ops here to hand back.
            let Ok(slot) = q.tx.reserve().await else {
                q.pending.fetch_sub(n, Ordering::Relaxed);
                return (Err(StoreError::Closed), ops);
            };
            let (reply, answer) = oneshot::channel();
            slot.send(Request::Write((ops, reply)));
            let Ok((result, ops)) = answer.await else {
                return (Err(StoreError::Closed), Vec::new());
            };
            metrics::histogram!(m::WRITE_SECONDS, "backend" => q.backend)
                .record(start.elapsed().as_secs_f64());
            record(&result, q.backend);
            (result, ops)
        })
    }

    /// Queue the backend's own request.
    pub(crate) async fn send(&self, x: X) -> Result<(), StoreError> {
        self.tx
            .send(Request::Other(x))
            .await
            .map_err(|_| StoreError::Closed)
    }

    /// Let the writer commit what is queued, then stop; resolves when it has.
    pub(crate) async fn close(&self) -> Result<(), StoreError> {
        let (done, stopped) = oneshot::channel();
        self.tx
            .send(Request::Stop(done))
            .await
            .map_err(|_| StoreError::Closed)?;
        let _ = stopped.await;
        Ok(())
    }
}

/// The writer's side of the queue.
pub(crate) struct Writer<X> {
    rx: mpsc::Receiver<Request<X>>,
    pending: Arc<AtomicUsize>,
    backend: &'static str,
}

/// What ended the gathering of a group.
pub(crate) enum Gathered<X> {
    /// Nothing more queued, or the group is full: commit it.
    Commit,
    /// Commit the group, then run this.
    Other(X),
    /// Commit the group, then stop and say so.
    Stop(oneshot::Sender<()>),
}

impl<X> Writer<X> {
    /// The next request, waiting for one; `None` when every caller is gone.
    pub(crate) async fn recv(&mut self) -> Option<Request<X>> {
        self.rx.recv().await
    }

    /// [`Writer::recv`] for a writer on its own thread.
    pub(crate) fn blocking_recv(&mut self) -> Option<Request<X>> {
        self.rx.blocking_recv()
    }

    /// A request already queued, if any.
    pub(crate) fn try_recv(&mut self) -> Option<Request<X>> {
        self.rx.try_recv().ok()
    }

    /// Add `first` and the writes queued behind it to `group`, up to [`MAX_GROUP_OPS`] ops,
    /// stopping at the first request that is not a write.
    pub(crate) fn gather(&mut self, first: Request<X>, group: &mut Vec<Waiter>) -> Gathered<X> {
        let mut ops: usize = group.iter().map(|(o, _)| o.len()).sum();
        let mut next = Some(first);
        while let Some(req) = next.take() {
            match req {
                Request::Write(w) => {
                    ops += w.0.len();
                    group.push(w);
                }
                Request::Other(x) => return Gathered::Other(x),
                Request::Stop(done) => return Gathered::Stop(done),
            }
            if ops < MAX_GROUP_OPS {
                next = self.try_recv();
            }
        }
        Gathered::Commit
    }

    /// Answer every caller of `group` with its result (in order), and count the group's ops
    /// off the backlog.
    pub(crate) fn answer(
        &self,
        group: &mut Vec<Waiter>,
        results: Vec<Result<WriteResult, StoreError>>,
    ) {
        let n_ops: usize = group.iter().map(|(o, _)| o.len()).sum();
        let left = self.pending.fetch_sub(n_ops, Ordering::Relaxed) - n_ops;
        metrics::gauge!(m::BACKLOG, "backend" => self.backend).set(left as f64);
        metrics::histogram!(m::COMMIT_OPS, "backend" => self.backend).record(n_ops as f64);
        // The ops go back to their callers, who free them: not this (single) writer's work.
        for ((ops, reply), result) in group.drain(..).zip(results) {
            let _ = reply.send((result, ops));
        }
    }
}

/// Results for a group with no ops (only flushes): everything before them is committed.
pub(crate) fn nothing_to_write(group: &[Waiter]) -> Option<Vec<Result<WriteResult, StoreError>>> {
    group
        .iter()
        .all(|(o, _)| o.is_empty())
        .then(|| group.iter().map(|_| Ok(WriteResult::default())).collect())
}

/// Count receipts and failures of one finished write.
fn record(result: &Result<WriteResult, StoreError>, backend: &'static str) {
    match result {
        Ok(r) => {
            if !r.new_receipts.is_empty() {
                metrics::counter!(m::RECEIPTS_TOTAL, "backend" => backend)
                    .increment(r.new_receipts.len() as u64);
            }
            if !r.duplicate_receipts.is_empty() {
                metrics::counter!(m::DUPLICATE_RECEIPTS_TOTAL, "backend" => backend)
                    .increment(r.duplicate_receipts.len() as u64);
            }
        }
        Err(_) => metrics::counter!(m::WRITE_ERRORS_TOTAL, "backend" => backend).increment(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> WriteOp {
        WriteOp::Feedback(crate::model::FeedbackRow {
            account: "acme".into(),
            msisdn: 77010000001,
            dispatch_id: None,
            kind: crate::model::FeedbackKind::Reply,
            body: "1".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
        })
    }

    fn write(n: usize) -> (Request<u8>, oneshot::Receiver<Answer>) {
        let (reply, answer) = oneshot::channel();
        (
            Request::Write(((0..n).map(|_| op()).collect(), reply)),
            answer,
        )
    }

    #[tokio::test]
    async fn a_group_takes_the_queued_writes_and_stops_at_another_request() {
        let (q, mut w) = WriteQueue::<u8>::new("test");
        let (first, _a1) = write(2);
        let (second, _a2) = write(3);
        q.tx.send(second).await.unwrap();
        q.tx.send(Request::Other(7)).await.unwrap();
        let (third, _a3) = write(1);
        q.tx.send(third).await.unwrap();
        let mut group = Vec::new();
        assert!(matches!(w.gather(first, &mut group), Gathered::Other(7)));
        assert_eq!(
            group.iter().map(|(o, _)| o.len()).collect::<Vec<_>>(),
            [2, 3]
        );
        // The write behind the other request starts the next group.
        group.clear();
        let next = w.try_recv().unwrap();
        assert!(matches!(w.gather(next, &mut group), Gathered::Commit));
        assert_eq!(group.len(), 1);
    }

    #[tokio::test]
    async fn a_full_group_leaves_the_rest_queued() {
        let (q, mut w) = WriteQueue::<u8>::new("test");
        let (first, _a1) = write(MAX_GROUP_OPS);
        let (second, _a2) = write(1);
        q.tx.send(second).await.unwrap();
        let mut group = Vec::new();
        assert!(matches!(w.gather(first, &mut group), Gathered::Commit));
        assert_eq!(group.len(), 1);
        assert!(matches!(w.try_recv(), Some(Request::Write(_))));
    }

    #[tokio::test]
    async fn answers_go_to_each_caller_and_the_backlog_drains() {
        let (q, mut w) = WriteQueue::<u8>::new("test");
        let writes = tokio::spawn({
            let q = q.clone();
            async move { (q.write(vec![op(), op()]).await, q.write(vec![]).await) }
        });
        let mut group = Vec::new();
        let first = w.recv().await.unwrap();
        assert!(matches!(w.gather(first, &mut group), Gathered::Commit));
        assert_eq!(q.pending(), 2);
        assert!(nothing_to_write(&group).is_none());
        let dup = WriteResult {
            duplicate_receipts: vec![9],
            ..WriteResult::default()
        };
        w.answer(&mut group, vec![Ok(dup)]);
        assert!(group.is_empty());
        // The caller's second write (a flush) is queued only after its first was answered.
        let first = w.recv().await.unwrap();
        let _ = w.gather(first, &mut group);
        let flush = nothing_to_write(&group).expect("a group of no ops");
        w.answer(&mut group, flush);
        let (a, b) = writes.await.unwrap();
        assert_eq!(a.0.unwrap().duplicate_receipts, [9]);
        assert_eq!(a.1, [op(), op()], "the ops come back to their caller");
        assert_eq!(b.0.unwrap(), WriteResult::default());
        assert_eq!(q.pending(), 0);
        drop(w);
        assert!(q.is_closed());
        let (refused, back) = q.write(vec![op()]).await;
        assert!(matches!(refused, Err(StoreError::Closed)));
        assert_eq!(
            back,
            [op()],
            "a refused write hands its ops back for a retry"
        );
    }
}
