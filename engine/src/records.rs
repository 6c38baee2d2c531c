//! What the core records, and the writer task that turns records into store writes.
//!
//! Links report from hot paths and must never wait for the database, so the core sends
//! [`Record`]s down an unbounded channel; one task drains it in batches and group-commits them.
//! A failed write is retried (with backoff) rather than dropped: every record is a receipt or
//! a ledger entry somebody will bill from.

use crate::tables::Names;
use sendbox_dispatch::{Content, DispatchId, LocalTime, Outcome, Ready};
use sendbox_store::{
    DispatchState, FeedbackKind, FeedbackRow, Handoff as StoreHandoff, LedgerKind, LedgerRow,
    ReceiptRow, Store, WriteOp,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// One event worth storing.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // records are moved once into the writer's channel; boxing
// the common variants would add an allocation per dispatch on the hot path.
pub enum Record {
    /// Waiting for the window's next opening.
    Deferred {
        /// The dispatch.
        id: DispatchId,
        /// When it was deferred.
        at: jiff::Timestamp,
    },
    /// Parked: the account cannot cover it.
    InsufficientFunds {
        /// The dispatch.
        id: DispatchId,
        /// When.
        at: jiff::Timestamp,
    },
    /// The operator took it; `cost` was debited.
    HandedOff {
        /// The dispatch.
        ready: Ready,
        /// When, UTC.
        at: jiff::Timestamp,
        /// When, Almaty wall time.
        local: LocalTime,
        /// Units billed.
        units: u32,
        /// Tiyn debited.
        cost: i64,
        /// SMPP message ids or SIP Call-ID.
        operator_ref: String,
        /// Whether the window was open at that instant.
        inside_window: bool,
    },
    /// Final outcome.
    Final {
        /// The dispatch.
        ready: Ready,
        /// The outcome.
        outcome: Outcome,
        /// Outcome time, Almaty wall time.
        local_final: LocalTime,
        /// Handoff time UTC, local, inside the window.
        handed_off: Option<(jiff::Timestamp, LocalTime, bool)>,
        /// Total charged.
        cost: i64,
        /// Charged at the end (voice seconds), on top of the handoff debit.
        extra_debit: i64,
    },
    /// A voice attempt ended without a final outcome; another follows.
    AttemptEnded {
        /// The dispatch.
        id: DispatchId,
        /// The attempt that ended.
        attempt: u16,
        /// When.
        at: jiff::Timestamp,
        /// The next attempt not before then (a restart honours the retry interval).
        retry_at: jiff::Timestamp,
    },
    /// An incoming SMS.
    Inbound {
        /// Operator name.
        operator: Arc<str>,
        /// Subscriber.
        from: u64,
        /// Our address it was sent to.
        to: String,
        /// Text.
        text: String,
        /// When.
        at: jiff::Timestamp,
    },
}

/// The sending side, held by the core.
#[derive(Debug, Clone)]
pub struct RecordSink {
    tx: mpsc::UnboundedSender<Record>,
    pending: Arc<AtomicUsize>,
}

impl RecordSink {
    /// Start the writer task over `store`.
    pub fn spawn(
        store: Arc<dyn Store>,
        names: Arc<Names>,
    ) -> (RecordSink, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(writer(rx, store, names, pending.clone()));
        (RecordSink { tx, pending }, task)
    }

    /// Queue a record for the store.
    pub fn send(&self, r: Record) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(r).is_err() {
            // The writer only stops after every sink is dropped; reaching here means the
            // runtime is shutting down. Say so rather than lose a billing record silently.
            self.pending.fetch_sub(1, Ordering::AcqRel);
            tracing::error!("Record dropped: the store writer has stopped.");
        }
    }

    /// Records not yet durable.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Wait until every record sent so far is durable.
    pub async fn drained(&self) {
        while self.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

const MAX_BATCH: usize = 16_384;

/// Store writes of records in flight at once. Two keep the store busy: the next batch is
/// converted and queued while the previous one commits, and the store's group commit takes
/// both when it can (measured: with one, the store thread sat idle between batches).
const WRITES_IN_FLIGHT: usize = 2;

async fn writer(
    mut rx: mpsc::UnboundedReceiver<Record>,
    store: Arc<dyn Store>,
    names: Arc<Names>,
    pending: Arc<AtomicUsize>,
) {
    // Converting records to ops here, committing in `commit` (in order): the channel holds
    // one converted batch while `commit` has its writes in flight.
    let (tx, batches) = mpsc::channel(1);
    let spare = Spare::default();
    let committer = tokio::spawn(commit(batches, store.clone(), pending, spare.clone()));
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let n = batch.len();
        let mut ops = spare.take();
        ops.reserve(n * 2);
        for r in batch.drain(..) {
            to_ops(r, &names, &store, &mut ops).await;
        }
        if tx.send((ops, n)).await.is_err() {
            break; // the committer ended: only when the runtime is going away
        }
    }
    drop(tx);
    let _ = committer.await;
}

/// Emptied op lists, kept for the next batches. A full batch's list is a few MB (16,384
/// records, two or three ops each); allocated afresh per batch, it came from new pages, and
/// zeroing them was 1.4 % of the engine's samples in the SMS throughput run.
#[derive(Clone, Default)]
struct Spare(Arc<parking_lot::Mutex<Vec<Vec<WriteOp>>>>);

impl Spare {
    /// A list to fill: a spare one, else a new one.
    fn take(&self) -> Vec<WriteOp> {
        self.0.lock().pop().unwrap_or_default()
    }

    /// Keep `ops` (emptied here) for a later batch, unless enough are kept already.
    fn give(&self, mut ops: Vec<WriteOp>) {
        ops.clear();
        let mut kept = self.0.lock();
        if kept.len() <= WRITES_IN_FLIGHT {
            kept.push(ops);
        }
    }
}

/// Write each batch of ops, in the order they came, up to [`WRITES_IN_FLIGHT`] at a time;
/// a batch whose write fails is retried (with backoff) until it is stored.
async fn commit(
    mut batches: mpsc::Receiver<(Vec<WriteOp>, usize)>,
    store: Arc<dyn Store>,
    pending: Arc<AtomicUsize>,
    spare: Spare,
) {
    use futures::StreamExt;
    // FuturesOrdered polls new futures in the order they were pushed, so the writes reach the
    // store's queue in batch order.
    let mut inflight = futures::stream::FuturesOrdered::new();
    loop {
        tokio::select! {
            b = batches.recv(), if inflight.len() < WRITES_IN_FLIGHT => match b {
                Some((ops, n)) => inflight.push_back(stored(store.clone(), ops, n, pending.clone(), spare.clone())),
                None => break,
            },
            Some(()) = inflight.next() => {}
        }
    }
    while inflight.next().await.is_some() {}
}

/// Write `ops` (`n` records) until the store takes them, then count them durable. A failed
/// write hands the ops back for the retry: no copy is made per write.
async fn stored(
    store: Arc<dyn Store>,
    mut ops: Vec<WriteOp>,
    n: usize,
    pending: Arc<AtomicUsize>,
    spare: Spare,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let expected = ops.len();
        let (result, back) = store.write_returning(ops).await;
        match result {
            Ok(_) => {
                spare.give(back);
                break;
            }
            Err(e) if back.len() != expected => {
                // Only when the store's writer died mid-write: nothing can be stored any more.
                tracing::error!(error = %e, records = n, "Store writer stopped without answering; these records were not stored.");
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, records = n, "Store write failed; retrying.");
                ops = back;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
    pending.fetch_sub(n, Ordering::AcqRel);
}

async fn to_ops(r: Record, names: &Names, store: &Arc<dyn Store>, ops: &mut Vec<WriteOp>) {
    match r {
        Record::Deferred { id, at } => ops.push(WriteOp::UpdateState {
            id: id.0,
            state: DispatchState::Deferred,
            at,
            not_before: None,
        }),
        Record::InsufficientFunds { id, at } => ops.push(WriteOp::UpdateState {
            id: id.0,
            state: DispatchState::InsufficientFunds,
            at,
            not_before: None,
        }),
        Record::HandedOff {
            ready,
            at,
            local,
            units,
            cost,
            operator_ref,
            inside_window: _,
        } => {
            ops.push(WriteOp::HandedOff {
                id: ready.id.0,
                handoff: StoreHandoff {
                    at_utc: at,
                    at_local: local,
                    operator_ref,
                    units,
                    cost_tiyn: cost,
                },
            });
            ops.push(WriteOp::Ledger(LedgerRow {
                dispatch_id: Some(ready.id.0),
                account: names.account_shared(ready.account),
                kind: LedgerKind::Debit,
                attempt: ready.attempt,
                amount_tiyn: -cost,
                at,
            }));
        }
        Record::Final {
            ready,
            outcome,
            local_final,
            handed_off,
            cost,
            extra_debit,
        } => {
            let account = names.account_shared(ready.account);
            let digits: String = outcome
                .call
                .as_ref()
                .map(|c| c.digits.iter().map(|(d, _)| *d).collect())
                .unwrap_or_default();
            let final_at = outcome.at;
            if extra_debit > 0 {
                // The per-second charge of an answered call; the attempt fee was debited at
                // handoff. `attempt + 1000` keeps the two debits of one attempt distinct.
                ops.push(WriteOp::Ledger(LedgerRow {
                    dispatch_id: Some(ready.id.0),
                    account: account.clone(),
                    kind: LedgerKind::Debit,
                    attempt: ready
                        .attempt
                        .saturating_add(sendbox_store::SECONDS_DEBIT_ATTEMPT_OFFSET),
                    amount_tiyn: -extra_debit,
                    at: outcome.at,
                }));
            }
            let segments = match &*ready.content {
                Content::Sms(s) if handed_off.is_some() => u32::from(s.segments),
                _ => 0,
            };
            ops.push(WriteOp::Final(Box::new(ReceiptRow {
                dispatch_id: ready.id.0,
                account,
                campaign: ready.campaign.map(|c| c.0),
                operator: names.operator_shared(ready.operator),
                channel: ready.channel(),
                msisdn: ready.msisdn,
                state: outcome.state,
                error: outcome.error,
                segments,
                billable_seconds: outcome.billable_seconds,
                cost_tiyn: cost,
                accepted_at: ready.accepted_at,
                handed_off_at_utc: handed_off.map(|h| h.0),
                handed_off_local: handed_off.map(|h| h.1),
                final_at_utc: outcome.at,
                final_local: local_final,
                inside_window: handed_off.is_some_and(|h| h.2),
                call: outcome.call.map(|c| *c),
                attempt: ready.attempt,
            })));
            if !digits.is_empty() {
                ops.push(WriteOp::Feedback(FeedbackRow {
                    account: names.account(ready.account).to_owned(),
                    msisdn: ready.msisdn,
                    dispatch_id: Some(ready.id.0),
                    kind: FeedbackKind::Dtmf,
                    body: digits,
                    at: final_at,
                }));
            }
        }
        Record::AttemptEnded {
            id,
            attempt: _,
            at,
            retry_at,
        } => ops.push(WriteOp::UpdateState {
            id: id.0,
            state: DispatchState::Queued,
            at,
            not_before: Some(retry_at),
        }),
        Record::Inbound {
            operator: _,
            from,
            to: _,
            text,
            at,
        } => {
            let last = store.last_dispatch_to(None, from).await.ok().flatten();
            let (dispatch_id, account) = match last {
                Some((id, account)) => (Some(id), account),
                None => (None, String::new()),
            };
            ops.push(WriteOp::Feedback(FeedbackRow {
                account,
                msisdn: from,
                dispatch_id,
                kind: FeedbackKind::Reply,
                body: text,
                at,
            }));
        }
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
