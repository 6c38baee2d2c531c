//! The records writer against a store whose first writes fail.

use super::*;
use futures::future::BoxFuture;
use sendbox_store::*;
use std::sync::atomic::AtomicUsize;

/// A store that refuses its first `fail` writes (handing the ops back, as a real store does
/// when a write fails) and records how many ops each write carried.
#[derive(Debug)]
struct Flaky {
    inner: Arc<dyn Store>,
    fail: AtomicUsize,
    writes: parking_lot::Mutex<Vec<usize>>,
}

impl Store for Flaky {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn write_returning(
        &self,
        ops: Vec<WriteOp>,
    ) -> BoxFuture<'static, (Result<WriteResult, StoreError>, Vec<WriteOp>)> {
        self.writes.lock().push(ops.len());
        let failing = self
            .fail
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            let e = StoreError::InvalidWrite("injected failure".into());
            return Box::pin(async move { (Err(e), ops) });
        }
        self.inner.write_returning(ops)
    }
    fn receipts_after(
        &self,
        cursor: i64,
        limit: u32,
        account: Option<&str>,
    ) -> BoxFuture<'static, Result<ReceiptPage, StoreError>> {
        self.inner.receipts_after(cursor, limit, account)
    }
    fn dispatch(&self, id: u64) -> BoxFuture<'static, Result<Option<DispatchView>, StoreError>> {
        self.inner.dispatch(id)
    }
    fn campaign(&self, id: u64) -> BoxFuture<'static, Result<Option<CampaignRow>, StoreError>> {
        self.inner.campaign(id)
    }
    fn campaign_counts(&self, c: u64) -> BoxFuture<'static, Result<Vec<StateCount>, StoreError>> {
        self.inner.campaign_counts(c)
    }
    fn history(
        &self,
        msisdn: u64,
        account: Option<&str>,
    ) -> BoxFuture<'static, Result<Vec<HistoryRow>, StoreError>> {
        self.inner.history(msisdn, account)
    }
    fn unfinished(&self) -> BoxFuture<'static, Result<Vec<Unfinished>, StoreError>> {
        self.inner.unfinished()
    }
    fn balances(&self) -> BoxFuture<'static, Result<Vec<Balance>, StoreError>> {
        self.inner.balances()
    }
    fn last_dispatch_to(
        &self,
        account: Option<&str>,
        msisdn: u64,
    ) -> BoxFuture<'static, Result<Option<(u64, String)>, StoreError>> {
        self.inner.last_dispatch_to(account, msisdn)
    }
    fn campaign_receipts(
        &self,
        campaign: u64,
        cursor: i64,
        limit: u32,
    ) -> BoxFuture<'static, Result<ReceiptPage, StoreError>> {
        self.inner.campaign_receipts(campaign, cursor, limit)
    }
    fn feedback_for(
        &self,
        key: FeedbackKey,
    ) -> BoxFuture<'static, Result<Vec<StoredFeedback>, StoreError>> {
        self.inner.feedback_for(key)
    }
    fn audio_get(&self, id: &str) -> BoxFuture<'static, Result<Option<AudioRow>, StoreError>> {
        self.inner.audio_get(id)
    }
    fn ping(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        self.inner.ping()
    }
    fn pending_writes(&self) -> usize {
        self.inner.pending_writes()
    }
    fn close(&self) -> BoxFuture<'static, Result<(), StoreError>> {
        self.inner.close()
    }
}

#[tokio::test]
async fn a_failed_write_is_retried_with_the_ops_it_handed_back() {
    let inner = sendbox_store::open("sqlite::memory:").await.unwrap();
    let at = jiff::Timestamp::from_second(1_795_582_800).unwrap();
    let accepted = DispatchRow {
        id: 1,
        account: "acme".into(),
        campaign: None,
        channel: sendbox_dispatch::Channel::Sms,
        class: sendbox_dispatch::TrafficClass::Service,
        msisdn: 77010000001,
        operator: "beeline".into(),
        content_ref: "hello".into(),
        sender: "SENDBOX".into(),
        segments: 1,
        reserved_tiyn: 1500,
        accepted_at: at,
        not_before: None,
        state: DispatchState::Accepted,
    };
    inner
        .write(vec![WriteOp::AcceptDispatch(accepted)])
        .await
        .unwrap();
    let flaky = Arc::new(Flaky {
        inner: inner.clone(),
        fail: AtomicUsize::new(2),
        writes: parking_lot::Mutex::new(Vec::new()),
    });
    let (sink, _task) = RecordSink::spawn(flaky.clone(), Arc::new(Names::default()));
    sink.send(Record::Deferred {
        id: DispatchId(1),
        at: at + jiff::SignedDuration::from_secs(1),
    });
    tokio::time::timeout(Duration::from_secs(10), sink.drained())
        .await
        .expect("the record is stored after two failed writes");
    assert_eq!(*flaky.writes.lock(), [1, 1, 1], "each retry carried the op");
    let v = inner.dispatch(1).await.unwrap().unwrap();
    assert_eq!(v.row.state, DispatchState::Deferred);
}
