//! The outbox, restart, history, feedback, campaigns, audio and the store's lifecycle.

use super::super::*;
use sendbox_store::WriteOp::*;

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
            not_before: None,
        },
        // Dispatch 1: handed off, that attempt ended, the next waits for the retry interval.
        HandedOff {
            id: 1,
            handoff: handoff(t(32)),
        },
        UpdateState {
            id: 1,
            state: DispatchState::Queued,
            at: t(33),
            not_before: Some(t(1833)),
        },
        Final(Box::new(receipt(&rows[3], FinalState::Rejected, t(32)))),
        // Dispatch 2 as a call on its second attempt: the first attempt's fee and its
        // per-second charge, then the second attempt's fee at its handoff.
        Ledger(debit(&rows[1], 500, t(10))),
        Ledger(LedgerRow {
            attempt: SECONDS_DEBIT_ATTEMPT_OFFSET + 1,
            ..debit(&rows[1], 90, t(20))
        }),
        Ledger(LedgerRow {
            attempt: 2,
            ..debit(&rows[1], 500, t(30))
        }),
    ])
    .await
    .unwrap();
    s.close().await.unwrap();
    drop(s);

    let s = db.open().await;
    let open = s.unfinished().await.unwrap();
    let ids: Vec<_> = open.iter().map(|u| u.row.id).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(
        open[0].row.not_before,
        Some(t(1833)),
        "the retry time is kept"
    );
    assert_eq!(open[0].row.state, DispatchState::Queued);
    assert!(
        open[0].handoff.is_none(),
        "an ended attempt's handoff is not reported: the call is back in the queue"
    );
    assert_eq!(open[1].row.state, DispatchState::HandedOff);
    assert_eq!(open[1].handoff, Some(handoff(t(30))));
    assert_eq!(open[2].row.state, DispatchState::Deferred);
    assert_eq!(
        open[1].billed,
        BilledSoFar {
            attempts: 2,
            debited_tiyn: 1090
        },
        "the ledger's attempts and debits of the unfinished call"
    );
    assert_eq!(open[0].billed, BilledSoFar::default());
    assert_eq!(open[2].billed, BilledSoFar::default());
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
            not_before: None,
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
            not_before: None,
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
            not_before: None,
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

/// A handoff and a state at the same instant: the one written later wins (in separate
/// writes; inside one write PostgreSQL orders handoffs before states). A handoff older than
/// the dispatch's state is kept out of its view.
pub async fn handoffs_and_states_order_by_time_then_by_write(db: &Db) {
    let s = db.open().await;
    s.write(vec![AcceptDispatch(dispatch(1, "acme", 77010000001))])
        .await
        .unwrap();
    let view = |s: &std::sync::Arc<dyn sendbox_store::Store>| {
        let s = s.clone();
        async move {
            let v = s.dispatch(1).await.unwrap().unwrap();
            (v.row.state, v.state_at, v.handoff.map(|h| h.at_utc))
        }
    };
    let state = |at| UpdateState {
        id: 1,
        state: DispatchState::Queued,
        at,
        not_before: None,
    };
    let handed = |at| HandedOff {
        id: 1,
        handoff: handoff(at),
    };
    s.write(vec![state(t(10))]).await.unwrap();
    s.write(vec![handed(t(10))]).await.unwrap();
    assert_eq!(
        view(&s).await,
        (DispatchState::HandedOff, t(10), Some(t(10)))
    );
    s.write(vec![state(t(10))]).await.unwrap();
    assert_eq!(view(&s).await, (DispatchState::Queued, t(10), None));
    // The next attempt is handed off; its end is reported, then a stale handoff arrives.
    s.write(vec![handed(t(20))]).await.unwrap();
    s.write(vec![state(t(30))]).await.unwrap();
    s.write(vec![handed(t(25))]).await.unwrap();
    assert_eq!(view(&s).await, (DispatchState::Queued, t(30), None));
    s.write(vec![handed(t(40)), handed(t(35))]).await.unwrap();
    assert_eq!(
        view(&s).await,
        (DispatchState::HandedOff, t(40), Some(t(40))),
        "the newest handoff is the current one"
    );
    let h = s.history(77010000001, None).await.unwrap();
    assert_eq!(
        (h[0].result.as_str(), h[0].handed_off_at),
        ("handed_off", Some(t(40)))
    );
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
    // The whole feed, paged by sequence.
    let first = s
        .feedback_for(FeedbackKey::After { after: 0, limit: 1 })
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].seq, by_dispatch[0].seq);
    let rest = s
        .feedback_for(FeedbackKey::After {
            after: first[0].seq,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].seq, by_dispatch[1].seq);
    assert!(
        s.feedback_for(FeedbackKey::After {
            after: rest[0].seq,
            limit: 10
        })
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
        not_before: None,
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

pub async fn campaign_receipts_and_feedback_are_read_by_campaign(db: &Db) {
    let s = db.open().await;
    // Dispatches 1..=7 of one account: campaign 7 for the odd ones, 8 for 2 and 4, none for 6;
    // dispatch 7 belongs to another account's campaign 9.
    let rows: Vec<_> = (1..=7)
        .map(|i| {
            let mut d = dispatch(i, if i == 7 { "globex" } else { "acme" }, 77060000000 + i);
            d.campaign = match i {
                7 => Some(9),
                6 => None,
                _ if i % 2 == 1 => Some(7),
                _ => Some(8),
            };
            d
        })
        .collect();
    s.write(rows.iter().cloned().map(AcceptDispatch).collect())
        .await
        .unwrap();
    // Receipts committed in the order 5, 2, 1, 6, 3, 7, 4: campaign 7's are 5, 1, 3.
    for i in [5, 2, 1, 6, 3, 7, 4] {
        let r = receipt(&rows[i - 1], FinalState::Delivered, t(10 + i as i64));
        s.write(vec![Final(Box::new(r))]).await.unwrap();
    }
    let ids = |p: &ReceiptPage| {
        p.receipts
            .iter()
            .map(|r| r.receipt.dispatch_id)
            .collect::<Vec<_>>()
    };
    let first = s.campaign_receipts(7, 0, 2).await.unwrap();
    assert_eq!(ids(&first), [5, 1]);
    assert_eq!(first.next_cursor, first.receipts[1].seq);
    let rest = s.campaign_receipts(7, first.next_cursor, 2).await.unwrap();
    assert_eq!(ids(&rest), [3]);
    let end = s.campaign_receipts(7, rest.next_cursor, 2).await.unwrap();
    assert!(end.receipts.is_empty());
    assert_eq!(end.next_cursor, rest.next_cursor);
    assert_eq!(ids(&s.campaign_receipts(8, 0, 10).await.unwrap()), [2, 4]);
    assert_eq!(ids(&s.campaign_receipts(9, 0, 10).await.unwrap()), [7]);
    assert!(
        s.campaign_receipts(u64::MAX, 0, 10)
            .await
            .unwrap()
            .receipts
            .is_empty()
    );

    let reply = |d: u64, body: &str, at: i64| FeedbackRow {
        account: "acme".into(),
        msisdn: 77060000000 + d,
        dispatch_id: Some(d),
        kind: FeedbackKind::Reply,
        body: body.into(),
        at: t(at),
    };
    let unlinked = FeedbackRow {
        dispatch_id: None,
        ..reply(1, "unlinked", 50)
    };
    // A receipt whose dispatch row this store never had (written by an import, say): its
    // replies still count for the campaign.
    let mut lone = dispatch(20, "acme", 77060000020);
    lone.campaign = Some(7);
    s.write(vec![Final(Box::new(receipt(
        &lone,
        FinalState::Delivered,
        t(30),
    )))])
    .await
    .unwrap();
    s.write(vec![
        Feedback(reply(20, "LONE", 39)),
        Feedback(reply(3, "YES", 40)),
        Feedback(reply(2, "NO", 41)),
        Feedback(unlinked),
        Feedback(reply(6, "?", 42)),
        Feedback(reply(1, "STOP", 43)),
    ])
    .await
    .unwrap();
    let bodies = |k| {
        let s = s.clone();
        async move {
            s.feedback_for(k)
                .await
                .unwrap()
                .into_iter()
                .map(|f| f.feedback.body)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        bodies(FeedbackKey::Campaign(7)).await,
        ["LONE", "YES", "STOP"]
    );
    assert_eq!(bodies(FeedbackKey::Campaign(8)).await, ["NO"]);
    assert!(bodies(FeedbackKey::Campaign(9)).await.is_empty());
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

/// The Almaty time of the schema-2 handoffs of [`schema_2_dispatches_read_and_move_on`].
pub const SCHEMA_2_LOCAL: &str = "2026-11-25T10:00:30+05:00";

/// After a backend's test wrote, in schema 2, dispatch 1 handed off at t(30) (the handoff in its
/// row) and dispatch 2 handed off at t(20) then queued again at t(25), and opened the store
/// (migrating it): both read as before, and new states and handoffs apply over them.
pub async fn schema_2_dispatches_read_and_move_on(s: &std::sync::Arc<dyn sendbox_store::Store>) {
    let one = s.dispatch(1).await.unwrap().unwrap();
    assert_eq!(one.row.state, DispatchState::HandedOff);
    assert_eq!(one.state_at, t(30));
    let h = one
        .handoff
        .expect("the handoff written before the migration");
    assert_eq!(
        (
            h.at_utc,
            h.at_local.as_str(),
            h.operator_ref.as_str(),
            h.units,
            h.cost_tiyn
        ),
        (t(30), SCHEMA_2_LOCAL, "msg-1", 1, 1200)
    );
    let two = s.dispatch(2).await.unwrap().unwrap();
    assert_eq!(
        (two.row.state, two.state_at, two.handoff),
        (DispatchState::Queued, t(25), None)
    );
    let open: Vec<_> = s
        .unfinished()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.row.id, u.handoff.is_some()))
        .collect();
    assert_eq!(open, vec![(1, true), (2, false)]);
    // Dispatch 1's attempt ends, a stale report is ignored, the next attempt is handed off.
    let queued = |at| UpdateState {
        id: 1,
        state: DispatchState::Queued,
        at,
        not_before: None,
    };
    s.write(vec![queued(t(40))]).await.unwrap();
    s.write(vec![queued(t(35))]).await.unwrap();
    let one = s.dispatch(1).await.unwrap().unwrap();
    assert_eq!(
        (one.row.state, one.state_at, one.handoff.is_none()),
        (DispatchState::Queued, t(40), true)
    );
    s.write(vec![HandedOff {
        id: 1,
        handoff: handoff(t(50)),
    }])
    .await
    .unwrap();
    let one = s.dispatch(1).await.unwrap().unwrap();
    assert_eq!(one.row.state, DispatchState::HandedOff);
    assert_eq!(one.handoff, Some(handoff(t(50))));
    s.close().await.unwrap();
}
