//! One async fn per behaviour; each gets a fresh database.

use super::*;
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

pub async fn unfinished_dispatches_survive_a_restart(db: &Db) {
    let s = db.open().await;
    let rows: Vec<_> = (1..=4)
        .map(|i| dispatch(i, "acme", 77020000000 + i))
        .collect();
    s.write(rows.iter().cloned().map(AcceptDispatch).collect())
        .await
        .unwrap();
    s.write(vec![
        HandedOff {
            id: 2,
            handoff: handoff(t(30)),
        },
        UpdateState {
            id: 3,
            state: DispatchState::Deferred,
            at: t(31),
        },
        Final(Box::new(receipt(&rows[3], FinalState::Rejected, t(32)))),
    ])
    .await
    .unwrap();
    s.close().await.unwrap();
    drop(s);

    let s = db.open().await;
    let open = s.unfinished().await.unwrap();
    let ids: Vec<_> = open.iter().map(|u| u.row.id).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(open[0].row, rows[0]);
    assert!(open[0].handoff.is_none());
    assert_eq!(open[1].row.state, DispatchState::HandedOff);
    assert_eq!(open[1].handoff, Some(handoff(t(30))));
    assert_eq!(open[2].row.state, DispatchState::Deferred);
}

pub async fn history_lists_every_dispatch_to_a_number(db: &Db) {
    let s = db.open().await;
    let n = 77017654321;
    let a = dispatch(1, "acme", n);
    let b = dispatch(2, "globex", n);
    let c = dispatch(3, "acme", n);
    let other = dispatch(4, "acme", 77010000000);
    s.write(vec![
        AcceptDispatch(a.clone()),
        AcceptDispatch(b.clone()),
        AcceptDispatch(c.clone()),
        AcceptDispatch(other),
        HandedOff {
            id: 1,
            handoff: handoff(t(10)),
        },
        Final(Box::new(receipt(&a, FinalState::Delivered, t(20)))),
    ])
    .await
    .unwrap();
    let h = s.history(n, None).await.unwrap();
    assert_eq!(
        h.iter().map(|r| r.dispatch_id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let first = &h[0];
    assert_eq!(first.account, "acme");
    assert_eq!(first.content_ref, "hello 1");
    assert_eq!(first.result, "delivered");
    assert_eq!(first.inside_window, Some(true));
    assert_eq!(first.handed_off_at, Some(t(10)));
    assert_eq!(first.final_at, Some(t(20)));
    assert_eq!(first.accepted_local, time::almaty_local(a.accepted_at));
    assert!(first.accepted_local.contains("+05:00"));
    assert_eq!(h[1].result, "accepted");
    assert_eq!(h[1].inside_window, None);
    let acme = s.history(n, Some("acme")).await.unwrap();
    assert_eq!(
        acme.iter().map(|r| r.dispatch_id).collect::<Vec<_>>(),
        vec![1, 3]
    );
    assert!(s.history(77000000000, None).await.unwrap().is_empty());
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

pub async fn migrations_are_idempotent_on_reopen(db: &Db) {
    let s = db.open().await;
    s.write(vec![AcceptDispatch(dispatch(1, "acme", 77010000001))])
        .await
        .unwrap();
    s.close().await.unwrap();
    for _ in 0..2 {
        let s = db.open().await;
        s.ping().await.unwrap();
        assert!(s.dispatch(1).await.unwrap().is_some());
        s.close().await.unwrap();
    }
}

pub async fn stale_state_updates_are_ignored(db: &Db) {
    let s = db.open().await;
    let d = dispatch(1, "acme", 77010000001);
    s.write(vec![AcceptDispatch(d.clone())]).await.unwrap();
    s.write(vec![
        UpdateState {
            id: 1,
            state: DispatchState::Queued,
            at: t(10),
        },
        HandedOff {
            id: 1,
            handoff: handoff(t(20)),
        },
        // Reported late (a stale queue event): older than the handoff, so ignored.
        UpdateState {
            id: 1,
            state: DispatchState::Queued,
            at: t(15),
        },
    ])
    .await
    .unwrap();
    assert_eq!(
        s.dispatch(1).await.unwrap().unwrap().row.state,
        DispatchState::HandedOff
    );
    s.write(vec![Final(Box::new(receipt(
        &d,
        FinalState::Delivered,
        t(30),
    )))])
    .await
    .unwrap();
    // Nothing moves a final dispatch, even a newer event.
    s.write(vec![
        UpdateState {
            id: 1,
            state: DispatchState::Deferred,
            at: t(40),
        },
        HandedOff {
            id: 1,
            handoff: handoff(t(41)),
        },
    ])
    .await
    .unwrap();
    let v = s.dispatch(1).await.unwrap().unwrap();
    assert_eq!(v.row.state, DispatchState::Final);
    assert_eq!(v.state_at, t(30));
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
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidWrite(_)), "{err}");
    let err = s
        .write(vec![AcceptDispatch(dispatch(u64::MAX, "acme", 1))])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("dispatch id"), "{err}");
    assert!(s.dispatch(1).await.unwrap().is_none());
    assert!(s.balances().await.unwrap().is_empty());
}

pub async fn feedback_links_to_the_last_dispatch(db: &Db) {
    let s = db.open().await;
    let n = 77015550000;
    s.write(vec![
        AcceptDispatch(dispatch(1, "acme", n)),
        AcceptDispatch(dispatch(2, "globex", n)),
        AcceptDispatch(dispatch(3, "acme", n)),
    ])
    .await
    .unwrap();
    assert_eq!(
        s.last_dispatch_to(None, n).await.unwrap(),
        Some((3, "acme".into()))
    );
    assert_eq!(
        s.last_dispatch_to(Some("globex"), n).await.unwrap(),
        Some((2, "globex".into()))
    );
    assert_eq!(s.last_dispatch_to(None, 77000000000).await.unwrap(), None);
    let (id, account) = s.last_dispatch_to(None, n).await.unwrap().unwrap();
    let reply = FeedbackRow {
        account,
        msisdn: n,
        dispatch_id: Some(id),
        kind: FeedbackKind::Reply,
        body: "STOP".into(),
        at: t(100),
    };
    let dtmf = FeedbackRow {
        kind: FeedbackKind::Dtmf,
        body: "1#".into(),
        at: t(101),
        ..reply.clone()
    };
    s.write(vec![Feedback(reply.clone()), Feedback(dtmf.clone())])
        .await
        .unwrap();
    let by_dispatch = s.feedback_for(FeedbackKey::Dispatch(3)).await.unwrap();
    assert_eq!(
        by_dispatch
            .iter()
            .map(|f| f.feedback.clone())
            .collect::<Vec<_>>(),
        vec![reply, dtmf]
    );
    assert!(by_dispatch[0].seq < by_dispatch[1].seq);
    assert_eq!(
        s.feedback_for(FeedbackKey::Msisdn(n)).await.unwrap().len(),
        2
    );
    assert!(
        s.feedback_for(FeedbackKey::Dispatch(1))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn campaign_counts_group_final_and_open_states(db: &Db) {
    let s = db.open().await;
    let c = CampaignRow {
        id: 7,
        account: "acme".into(),
        channel: Channel::Sms,
        created_at: t(0),
        total: 5,
    };
    let rows: Vec<_> = (1..=5)
        .map(|i| dispatch(i, "acme", 77040000000 + i))
        .collect();
    let mut ops = vec![Campaign(c.clone()), Campaign(c.clone())];
    ops.extend(rows.iter().cloned().map(AcceptDispatch));
    ops.push(Final(Box::new(receipt(
        &rows[0],
        FinalState::Delivered,
        t(9),
    ))));
    ops.push(Final(Box::new(receipt(
        &rows[1],
        FinalState::Delivered,
        t(9),
    ))));
    ops.push(Final(Box::new(receipt(
        &rows[2],
        FinalState::Expired,
        t(9),
    ))));
    ops.push(UpdateState {
        id: 4,
        state: DispatchState::Queued,
        at: t(9),
    });
    s.write(ops).await.unwrap();
    assert_eq!(s.campaign(7).await.unwrap(), Some(c));
    assert_eq!(s.campaign(8).await.unwrap(), None);
    let counts: Vec<_> = s
        .campaign_counts(7)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.state, c.count))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("accepted".to_string(), 1),
            ("delivered".to_string(), 2),
            ("expired".to_string(), 1),
            ("queued".to_string(), 1),
        ]
    );
}

pub async fn audio_round_trips_by_content_id(db: &Db) {
    let s = db.open().await;
    let audio = AudioRow {
        id: "sha256-abc".into(),
        metadata: serde_json::json!({"name": "promo.mp3", "ms": 2500}),
        alaw: (0..=255u8).cycle().take(20_000).collect(),
        created_at: t(5),
    };
    s.audio_put(audio.clone()).await.unwrap();
    // Same id again: the first is kept.
    s.audio_put(AudioRow {
        alaw: vec![1, 2, 3],
        ..audio.clone()
    })
    .await
    .unwrap();
    assert_eq!(s.audio_get("sha256-abc").await.unwrap(), Some(audio));
    assert_eq!(s.audio_get("missing").await.unwrap(), None);
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

pub async fn closed_store_refuses_writes(db: &Db) {
    let s = db.open().await;
    s.ping().await.unwrap();
    s.write(vec![AcceptDispatch(dispatch(1, "acme", 77010000001))])
        .await
        .unwrap();
    s.close().await.unwrap();
    let err = s
        .write(vec![AcceptDispatch(dispatch(2, "acme", 77010000002))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Closed), "{err}");
    assert!(matches!(s.ping().await, Err(StoreError::Closed)));
    let s = db.open().await;
    assert!(
        s.dispatch(1).await.unwrap().is_some(),
        "written before close, so durable"
    );
}

pub async fn receipt_before_accept_leaves_nothing_open(db: &Db) {
    let s = db.open().await;
    let d = dispatch(1, "acme", 77010000001);
    // A receipt overtook its dispatch's acceptance (separate writes, reordered by the engine).
    s.write(vec![Final(Box::new(receipt(
        &d,
        FinalState::Delivered,
        t(9),
    )))])
    .await
    .unwrap();
    s.write(vec![AcceptDispatch(d.clone())]).await.unwrap();
    // Accepted and final in one write.
    let d2 = dispatch(2, "acme", 77010000002);
    s.write(vec![
        AcceptDispatch(d2.clone()),
        Final(Box::new(receipt(&d2, FinalState::Delivered, t(9)))),
    ])
    .await
    .unwrap();
    assert!(s.unfinished().await.unwrap().is_empty());
    assert_eq!(
        s.dispatch(1).await.unwrap().unwrap().row.state,
        DispatchState::Final
    );
}
