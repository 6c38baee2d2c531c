//! Receipts, the billing feed and the ledger: billed exactly once.

use super::super::*;
use sendbox_dispatch::CallDetail;
use sendbox_store::WriteOp::*;

pub async fn receipts_page_in_commit_order_with_cursor(db: &Db) {
    let s = db.open().await;
    let rows: Vec<_> = (1..=10)
        .map(|i| dispatch(i, "acme", 77010000000 + i))
        .collect();
    s.write(rows.iter().cloned().map(AcceptDispatch).collect())
        .await
        .unwrap();
    for d in &rows {
        s.write(vec![HandedOff {
            id: d.id,
            handoff: handoff(t(100)),
        }])
        .await
        .unwrap();
    }
    // Finals arrive in reverse dispatch order: the feed follows commit order, not ids.
    for d in rows.iter().rev() {
        let r = s
            .write(vec![Final(Box::new(receipt(
                d,
                FinalState::Delivered,
                t(200),
            )))])
            .await
            .unwrap();
        assert_eq!(r.new_receipts, vec![d.id]);
    }
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let page = s.receipts_after(cursor, 3, None).await.unwrap();
        assert!(page.receipts.len() <= 3);
        if page.receipts.is_empty() {
            assert_eq!(page.next_cursor, cursor);
            break;
        }
        for r in &page.receipts {
            assert!(r.seq > cursor);
            seen.push(r.receipt.dispatch_id);
        }
        cursor = page.next_cursor;
    }
    assert_eq!(seen, (1..=10).rev().collect::<Vec<_>>());
    let view = s.dispatch(4).await.unwrap().unwrap();
    assert_eq!(view.row.state, DispatchState::Final);
    assert_eq!(view.handoff.unwrap().operator_ref, "msg-1");
    assert_eq!(
        view.receipt.unwrap().receipt,
        receipt(&rows[3], FinalState::Delivered, t(200))
    );
    assert!(s.dispatch(999).await.unwrap().is_none());
}

pub async fn receipts_page_filters_by_account(db: &Db) {
    let s = db.open().await;
    let mut ops = Vec::new();
    for i in 1..=6 {
        let d = dispatch(i, if i % 2 == 0 { "even" } else { "odd" }, 77010000000 + i);
        ops.push(Final(Box::new(receipt(&d, FinalState::Expired, t(50)))));
    }
    s.write(ops).await.unwrap();
    let page = s.receipts_after(0, 100, Some("even")).await.unwrap();
    let ids: Vec<_> = page
        .receipts
        .iter()
        .map(|r| r.receipt.dispatch_id)
        .collect();
    assert_eq!(ids, vec![2, 4, 6]);
    let next = s
        .receipts_after(page.receipts[0].seq, 100, Some("even"))
        .await
        .unwrap();
    assert_eq!(next.receipts.len(), 2);
}

pub async fn duplicate_final_is_stored_and_billed_once(db: &Db) {
    let s = db.open().await;
    let d = dispatch(1, "acme", 77011112233);
    s.write(vec![AcceptDispatch(d.clone())]).await.unwrap();
    let fin = receipt(&d, FinalState::Delivered, t(60));
    let first = s
        .write(vec![
            Final(Box::new(fin.clone())),
            Ledger(debit(&d, 1200, t(60))),
        ])
        .await
        .unwrap();
    assert_eq!(first.new_receipts, vec![1]);
    assert!(first.duplicate_ledger.is_empty());
    // The same DLR again (a resend after restart), and twice inside one write.
    let later = receipt(&d, FinalState::Undeliverable, t(90));
    let again = s
        .write(vec![
            Final(Box::new(later.clone())),
            Final(Box::new(later)),
            Ledger(debit(&d, 1200, t(90))),
        ])
        .await
        .unwrap();
    assert!(again.new_receipts.is_empty());
    assert_eq!(again.duplicate_receipts, vec![1, 1]);
    assert_eq!(again.duplicate_ledger.len(), 1);
    // Many concurrent callers racing with the same receipt: exactly one wins.
    let d2 = dispatch(2, "acme", 77011112234);
    let racers: Vec<_> = (0..8)
        .map(|_| {
            s.write(vec![Final(Box::new(receipt(
                &d2,
                FinalState::Delivered,
                t(70),
            )))])
        })
        .collect();
    let wins: usize = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(|r| r.unwrap().new_receipts.len())
        .sum();
    assert_eq!(wins, 1);
    let page = s.receipts_after(0, 100, None).await.unwrap();
    assert_eq!(page.receipts.len(), 2);
    assert_eq!(page.receipts[0].receipt, fin, "the first receipt is kept");
    let bal = s.balances().await.unwrap();
    assert_eq!(
        bal,
        vec![Balance {
            account: "acme".into(),
            ledger_sum_tiyn: -1200
        }]
    );
}

pub async fn duplicate_debit_is_stored_once(db: &Db) {
    let s = db.open().await;
    let d = dispatch(5, "acme", 77011112233);
    let mut second_attempt = debit(&d, 300, t(5));
    second_attempt.attempt = 2;
    let r = s
        .write(vec![
            Ledger(debit(&d, 300, t(1))),
            Ledger(debit(&d, 300, t(2))),
            Ledger(second_attempt),
        ])
        .await
        .unwrap();
    assert_eq!(
        r.duplicate_ledger,
        vec![LedgerKey {
            dispatch_id: 5,
            kind: LedgerKind::Debit,
            attempt: 1
        }]
    );
    assert_eq!(s.balances().await.unwrap()[0].ledger_sum_tiyn, -600);
}

pub async fn concurrent_writers_lose_nothing(db: &Db) {
    let s = db.open().await;
    let tasks: Vec<_> = (0..32u64)
        .map(|task| {
            let s = s.clone();
            tokio::spawn(async move {
                for j in 0..25u64 {
                    let id = task * 1000 + j + 1;
                    let d = dispatch(id, "acme", 77030000000 + id);
                    s.write(vec![AcceptDispatch(d.clone())]).await.unwrap();
                    let r = s
                        .write(vec![
                            Final(Box::new(receipt(&d, FinalState::Delivered, t(40)))),
                            Ledger(debit(&d, 10, t(40))),
                        ])
                        .await
                        .unwrap();
                    assert_eq!(r.new_receipts, vec![id]);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    s.flush().await.unwrap();
    assert_eq!(s.pending_writes(), 0);
    let page = s.receipts_after(0, 10_000, None).await.unwrap();
    assert_eq!(page.receipts.len(), 800);
    let mut ids: Vec<_> = page
        .receipts
        .iter()
        .map(|r| r.receipt.dispatch_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 800);
    assert_eq!(s.balances().await.unwrap()[0].ledger_sum_tiyn, -8000);
    assert!(s.unfinished().await.unwrap().is_empty());
}

pub async fn balances_sum_the_ledger_per_account(db: &Db) {
    let s = db.open().await;
    let d = dispatch(1, "acme", 77010000001);
    let entry = |account: &str, dispatch_id, kind, amount_tiyn| LedgerRow {
        dispatch_id,
        account: account.into(),
        kind,
        attempt: 1,
        amount_tiyn,
        at: t(1),
    };
    s.write(vec![
        Ledger(entry("acme", None, LedgerKind::Topup, 10_000)),
        Ledger(entry("acme", Some(1), LedgerKind::Reserve, -1500)),
        Ledger(entry("acme", Some(1), LedgerKind::Release, 1500)),
        Ledger(debit(&d, 1200, t(2))),
        Ledger(entry("globex", None, LedgerKind::Topup, 500)),
        Ledger(entry("globex", None, LedgerKind::Topup, 500)),
    ])
    .await
    .unwrap();
    let b = s.balances().await.unwrap();
    assert_eq!(
        b,
        vec![
            Balance {
                account: "acme".into(),
                ledger_sum_tiyn: 8800
            },
            Balance {
                account: "globex".into(),
                ledger_sum_tiyn: 1000
            },
        ]
    );
}

pub async fn invalid_write_stores_nothing(db: &Db) {
    let s = db.open().await;
    let d = dispatch(1, "acme", 77010000001);
    let err = s
        .write(vec![AcceptDispatch(d.clone()), Ledger(debit(&d, -5, t(1)))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidWrite(_)), "{err}");
    let err = s
        .write(vec![UpdateState {
            id: 1,
            state: DispatchState::Final,
            at: t(1),
            not_before: None,
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidWrite(_)), "{err}");
    let err = s
        .write(vec![AcceptDispatch(dispatch(u64::MAX, "acme", 1))])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("dispatch id"), "{err}");
    // Counts beyond a 32-bit column are refused by both backends alike, before the writer:
    // PostgreSQL's INTEGER would fail the whole batch, SQLite would have taken them.
    let mut h = handoff(t(1));
    h.units = u32::MAX;
    let err = s
        .write(vec![
            AcceptDispatch(d.clone()),
            HandedOff { id: 1, handoff: h },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidWrite(_)), "{err}");
    assert!(
        err.to_string().contains("handoff units 4294967295"),
        "{err}"
    );
    let mut r = receipt(&d, FinalState::Delivered, t(2));
    r.segments = i32::MAX as u32 + 1;
    let err = s
        .write(vec![AcceptDispatch(d.clone()), Final(Box::new(r))])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("segments 2147483648"), "{err}");
    assert!(s.dispatch(1).await.unwrap().is_none());
    assert!(s.balances().await.unwrap().is_empty());
    // The bound itself is stored and read back on both.
    let d2 = dispatch(2, "acme", 77010000002);
    let mut r = receipt(&d2, FinalState::Delivered, t(2));
    r.billable_seconds = i32::MAX as u32;
    s.write(vec![AcceptDispatch(d2), Final(Box::new(r))])
        .await
        .expect("i32::MAX itself is stored");
    let stored = s.dispatch(2).await.unwrap().unwrap().receipt.unwrap();
    assert_eq!(stored.receipt.billable_seconds, i32::MAX as u32);
    assert!(s.balances().await.unwrap().is_empty());
}

pub async fn voice_receipt_keeps_call_detail(db: &Db) {
    let s = db.open().await;
    let mut d = dispatch(9, "acme", 77050000009);
    d.channel = Channel::Voice;
    let mut r = receipt(&d, FinalState::Answered, t(80));
    r.billable_seconds = 17;
    r.attempt = 2;
    r.call = Some(CallDetail {
        invite_at: Some(t(60)),
        ring_at: Some(t(61)),
        answer_at: Some(t(63)),
        end_at: Some(t(80)),
        sip_status: 200,
        digits: vec![('1', 1500), ('#', 2100)],
        heard_ms: 17_000,
        prompt_ms: 12_000,
    });
    s.write(vec![AcceptDispatch(d), Final(Box::new(r.clone()))])
        .await
        .unwrap();
    let page = s.receipts_after(0, 10, None).await.unwrap();
    assert_eq!(page.receipts[0].receipt, r);
}

/// Writes large enough to be inserted many rows per statement, with duplicates mixed in (from
/// an earlier write, and repeated inside one statement): each row is new once, in op order,
/// and every receipted dispatch leaves the restart set.
pub async fn large_writes_with_duplicates_are_billed_once(db: &Db) {
    let s = db.open().await;
    let rows: Vec<_> = (1..=100)
        .map(|i| dispatch(i, "acme", 77010000000 + i))
        .collect();
    s.write(rows.iter().cloned().map(AcceptDispatch).collect())
        .await
        .unwrap();
    assert_eq!(
        s.unfinished().await.unwrap().len(),
        100,
        "every accept is open"
    );
    let finals = |ids: &[u64]| -> Vec<WriteOp> {
        ids.iter()
            .flat_map(|&i| {
                let d = &rows[i as usize - 1];
                [
                    Final(Box::new(receipt(d, FinalState::Delivered, t(200)))),
                    Ledger(debit(d, 10, t(200))),
                ]
            })
            .collect()
    };
    let first: Vec<u64> = (1..=40).collect();
    let r = s.write(finals(&first)).await.unwrap();
    assert_eq!(r.new_receipts, first);
    assert!(r.duplicate_receipts.is_empty() && r.duplicate_ledger.is_empty());

    // 30..=40 were written before; 50 comes twice in a row (inside one 32-row statement).
    let mut second: Vec<u64> = (30..=100).collect();
    second.insert(second.iter().position(|&i| i == 50).unwrap() + 1, 50);
    let mut ops = finals(&second);
    // A top-up has no dispatch: never a duplicate, even twice.
    for _ in 0..2 {
        ops.push(Ledger(LedgerRow {
            dispatch_id: None,
            account: "acme".into(),
            kind: LedgerKind::Topup,
            attempt: 0,
            amount_tiyn: 5000,
            at: t(300),
        }));
    }
    let r = s.write(ops).await.unwrap();
    assert_eq!(r.new_receipts, (41..=100).collect::<Vec<u64>>());
    let mut dup: Vec<u64> = (30..=40).collect();
    dup.push(50);
    assert_eq!(r.duplicate_receipts, dup);
    let dup_ledger: Vec<u64> = r.duplicate_ledger.iter().map(|k| k.dispatch_id).collect();
    assert_eq!(dup_ledger, dup);

    let page = s.receipts_after(0, 1000, None).await.unwrap();
    assert_eq!(page.receipts.len(), 100, "one receipt per dispatch");
    assert!(s.unfinished().await.unwrap().is_empty());
    // Accepting them again (an API retry) changes nothing: none reopens.
    s.write(rows.iter().cloned().map(AcceptDispatch).collect())
        .await
        .unwrap();
    assert!(s.unfinished().await.unwrap().is_empty());
    let bal = s.balances().await.unwrap();
    assert_eq!(bal[0].ledger_sum_tiyn, 2 * 5000 - 100 * 10);
}
