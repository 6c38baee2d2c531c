//! The store emits its write metrics, labelled by backend only.

#[allow(unused_imports)] // the scenario re-exports are for the suites, not this test
mod common;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use sendbox_dispatch::FinalState;
use sendbox_store::WriteOp::*;
use sendbox_store::metrics as m;

#[test]
fn writes_emit_latency_receipt_and_duplicate_metrics() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // The write futures record on the calling thread: a current-thread runtime under a local
    // recorder sees them.
    metrics::with_local_recorder(&recorder, || {
        m::describe();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let s = sendbox_store::open("sqlite::memory:").await.unwrap();
            let d = common::dispatch(1, "acme", 77010000001);
            let fin = Final(Box::new(common::receipt(
                &d,
                FinalState::Delivered,
                common::t(5),
            )));
            s.write(vec![AcceptDispatch(d), fin.clone()]).await.unwrap();
            s.write(vec![fin]).await.unwrap();
            s.close().await.unwrap();
        });
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let find = |name: &str| {
        snapshot
            .iter()
            .find(|(k, ..)| k.key().name() == name)
            .unwrap_or_else(|| panic!("{name} not emitted"))
    };
    let (key, unit, _, value) = find(m::WRITE_SECONDS);
    assert_eq!(*unit, Some(metrics::Unit::Seconds));
    let labels: Vec<_> = key.key().labels().map(|l| (l.key(), l.value())).collect();
    assert_eq!(labels, vec![("backend", "sqlite")]);
    assert!(matches!(value, DebugValue::Histogram(v) if v.len() == 2));
    assert!(matches!(find(m::RECEIPTS_TOTAL).3, DebugValue::Counter(1)));
    assert!(matches!(
        find(m::DUPLICATE_RECEIPTS_TOTAL).3,
        DebugValue::Counter(1)
    ));
    assert!(matches!(find(m::BACKLOG).3, DebugValue::Gauge(_)));
}
