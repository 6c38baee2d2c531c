//! The [`Store`] trait: what the engine calls, whatever the backend.
//!
//! Every method returns a `'static` boxed future, so `Arc<dyn Store>` can be shared and the
//! futures spawned. Writes from all callers are group-committed by one writer; a write's
//! future resolves once its ops are durable.

use crate::StoreError;
use crate::model::{
    AudioRow, Balance, CampaignRow, DispatchView, FeedbackKey, HistoryRow, ReceiptPage, StateCount,
    StoredFeedback, Unfinished, WriteOp, WriteResult,
};
use futures::future::BoxFuture;

/// The billing store, history and outbox.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The backend's name: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Store `ops` atomically (all or nothing), group-committed with other callers' writes.
    /// Resolves when durable. Duplicate receipts and ledger entries are ignored and reported.
    fn write(&self, ops: Vec<WriteOp>) -> BoxFuture<'static, Result<WriteResult, StoreError>> {
        let w = self.write_returning(ops);
        Box::pin(async move { w.await.0 })
    }

    /// [`Store::write`], handing `ops` back with the result: a caller that retries a failed
    /// write needs them (rather than a copy made before every write), and freeing them is then
    /// the caller's work, not the single writer's. They come back empty only if the writer
    /// stopped without answering (then every later write fails too).
    fn write_returning(
        &self,
        ops: Vec<WriteOp>,
    ) -> BoxFuture<'static, (Result<WriteResult, StoreError>, Vec<WriteOp>)>;

    /// Receipts with `seq > cursor` in `seq` (commit) order, at most `limit`, optionally of
    /// one account. Start with cursor 0.
    fn receipts_after(
        &self,
        cursor: i64,
        limit: u32,
        account: Option<&str>,
    ) -> BoxFuture<'static, Result<ReceiptPage, StoreError>>;

    /// One dispatch with its handoff and receipt.
    fn dispatch(&self, id: u64) -> BoxFuture<'static, Result<Option<DispatchView>, StoreError>>;

    /// A campaign's row.
    fn campaign(&self, id: u64) -> BoxFuture<'static, Result<Option<CampaignRow>, StoreError>>;

    /// How many dispatches of a campaign are in each state (final ones by their final state),
    /// sorted by state name.
    fn campaign_counts(
        &self,
        campaign: u64,
    ) -> BoxFuture<'static, Result<Vec<StateCount>, StoreError>>;

    /// Every dispatch to `msisdn` (optionally from one account), oldest first.
    fn history(
        &self,
        msisdn: u64,
        account: Option<&str>,
    ) -> BoxFuture<'static, Result<Vec<HistoryRow>, StoreError>>;

    /// Accepted dispatches that are not final, by id: the engine continues them on restart.
    fn unfinished(&self) -> BoxFuture<'static, Result<Vec<Unfinished>, StoreError>>;

    /// Each account's ledger sum, by account name. The balance is the config's opening balance
    /// plus this sum (if the engine also writes `opening` entries, it must not add both).
    fn balances(&self) -> BoxFuture<'static, Result<Vec<Balance>, StoreError>>;

    /// The latest dispatch (by acceptance time) to `msisdn`, optionally from one account:
    /// `(dispatch id, account)`. Links an inbound reply to what it answers.
    fn last_dispatch_to(
        &self,
        account: Option<&str>,
        msisdn: u64,
    ) -> BoxFuture<'static, Result<Option<(u64, String)>, StoreError>>;

    /// One campaign's receipts in commit order: those with `seq > cursor`, at most `limit`
    /// (an index on `(campaign, seq)`: a report reads its campaign, not its account's feed).
    fn campaign_receipts(
        &self,
        campaign: u64,
        cursor: i64,
        limit: u32,
    ) -> BoxFuture<'static, Result<ReceiptPage, StoreError>>;

    /// Replies and DTMF input for a dispatch, a number or a campaign, oldest first.
    fn feedback_for(
        &self,
        key: FeedbackKey,
    ) -> BoxFuture<'static, Result<Vec<StoredFeedback>, StoreError>>;

    /// An audio prompt by id.
    fn audio_get(&self, id: &str) -> BoxFuture<'static, Result<Option<AudioRow>, StoreError>>;

    /// Store an audio prompt (a write of one [`WriteOp::Audio`]).
    fn audio_put(&self, audio: AudioRow) -> BoxFuture<'static, Result<(), StoreError>> {
        let w = self.write(vec![WriteOp::Audio(Box::new(audio))]);
        Box::pin(async move { w.await.map(|_| ()) })
    }

    /// Readiness: the database answers a trivial query and the writer is running.
    fn ping(&self) -> BoxFuture<'static, Result<(), StoreError>>;

    /// Ops accepted by `write` and not yet committed.
    fn pending_writes(&self) -> usize;

    /// Resolves once every write issued before this call is durable.
    fn flush(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        let w = self.write(Vec::new());
        Box::pin(async move { w.await.map(|_| ()) })
    }

    /// Flush, then stop the writer; later calls fail with [`StoreError::Closed`].
    fn close(&self) -> BoxFuture<'static, Result<(), StoreError>>;
}
