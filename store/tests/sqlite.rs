//! The behavioural suite on SQLite (a database file in a temp dir), plus SQLite specifics.

mod common;

use common::Db;

async fn sqlite() -> Option<Db> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("store.db").display());
    Some(Db {
        url,
        _guard: Box::new(dir),
    })
}

suite!(sqlite);

#[tokio::test]
async fn memory_database_reads_its_own_writes() {
    use sendbox_store::WriteOp::*;
    let s = sendbox_store::open("sqlite::memory:").await.unwrap();
    let d = common::dispatch(1, "acme", 77010000001);
    s.write(vec![AcceptDispatch(d.clone())]).await.unwrap();
    assert_eq!(s.dispatch(1).await.unwrap().unwrap().row, d);
    assert_eq!(s.unfinished().await.unwrap().len(), 1);
    s.close().await.unwrap();
}

#[tokio::test]
async fn schema_version_has_one_row_per_migration_after_reopen() {
    let db = sqlite().await.unwrap();
    for _ in 0..3 {
        db.open().await.close().await.unwrap();
    }
    let path = db.url.strip_prefix("sqlite:").unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    let rows: Vec<(u32, String)> = conn
        .prepare("SELECT version, name FROM schema_version ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (1, "0001_init.sql".to_string()),
            (2, "0002_receipts_by_campaign.sql".to_string()),
            (3, "0003_handoffs.sql".to_string())
        ]
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

/// A schema-2 database (handoffs in the dispatch row) opened by this code: both dispatches
/// read as before from the old columns, and new handoffs and states apply over them.
#[tokio::test]
async fn schema_2_handoffs_move_to_their_table() {
    let db = sqlite().await.unwrap();
    let path = db.url.strip_prefix("sqlite:").unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(include_str!("../migrations/sqlite/0001_init.sql"))
        .unwrap();
    conn.execute_batch(include_str!(
        "../migrations/sqlite/0002_receipts_by_campaign.sql"
    ))
    .unwrap();
    // As schema 2 left them: dispatch 1 with the operator since t(30); dispatch 2 handed off
    // at t(20), that attempt ended at t(25).
    let (t0, local) = (1_795_582_800_000_000_i64, common::scenarios::SCHEMA_2_LOCAL);
    conn.execute_batch(&format!(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
             applied_at TEXT NOT NULL);
         INSERT INTO schema_version VALUES (1, '0001_init.sql', 'then'),
             (2, '0002_receipts_by_campaign.sql', 'then');
         INSERT INTO dispatches (id, account, campaign, channel, class, msisdn, operator,
             content_ref, sender, segments, reserved_tiyn, accepted_at, not_before, state,
             state_at, handed_off_at, handed_off_local, operator_ref, units, cost_tiyn)
         VALUES (1, 'acme', 7, 'sms', 'service', 77010000001, 'beeline', 'hello 1', 'SENDBOX',
                 1, 1500, {t0}, NULL, 'handed_off', {t30}, {t30}, '{local}', 'msg-1', 1, 1200),
                (2, 'acme', 7, 'sms', 'service', 77010000002, 'beeline', 'hello 2', 'SENDBOX',
                 1, 1500, {t0}, NULL, 'queued', {t25}, {t20}, '{local}', 'msg-2', 1, 1200);
         INSERT INTO open_dispatches VALUES (1), (2);",
        t20 = t0 + 20_000_000,
        t25 = t0 + 25_000_000,
        t30 = t0 + 30_000_000,
    ))
    .unwrap();
    drop(conn);

    common::scenarios::schema_2_dispatches_read_and_move_on(&db.open().await).await;
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let db = sqlite().await.unwrap();
    db.open().await.close().await.unwrap();
    let path = db.url.strip_prefix("sqlite:").unwrap();
    rusqlite::Connection::open(path)
        .unwrap()
        .execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'x', 'now')",
            [],
        )
        .unwrap();
    let err = sendbox_store::open(&db.url).await.unwrap_err();
    assert!(
        matches!(
            err,
            sendbox_store::StoreError::SchemaTooNew { found: 99, .. }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn bad_urls_name_the_problem() {
    for url in [
        "mysql://x",
        "sqlite:",
        "sqlite:/tmp/x.db?synchronous=maybe",
        "sqlite:/tmp/x.db?readers=0",
    ] {
        let err = sendbox_store::open(url).await.unwrap_err();
        assert!(
            matches!(err, sendbox_store::StoreError::InvalidUrl { .. }),
            "{url}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_write_does_not_fail_its_group() {
    use sendbox_store::{FeedbackKind, FeedbackRow, WriteOp::*};
    let db = sqlite().await.unwrap();
    db.open().await.close().await.unwrap();
    // A trigger makes the database itself refuse one write (validation cannot catch it).
    let path = db.url.strip_prefix("sqlite:").unwrap();
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER boom BEFORE INSERT ON feedback WHEN NEW.body = 'boom'
             BEGIN SELECT RAISE(ABORT, 'boom refused'); END;",
        )
        .unwrap();
    let s = db.open().await;
    let feedback = |body: &str| FeedbackRow {
        account: "acme".into(),
        msisdn: 77010000001,
        dispatch_id: None,
        kind: FeedbackKind::Reply,
        body: body.into(),
        at: common::t(1),
    };
    let good: Vec<_> = (1..=20u64)
        .map(|i| {
            s.write(vec![
                AcceptDispatch(common::dispatch(i, "acme", 77010000000 + i)),
                Feedback(feedback("ok")),
            ])
        })
        .collect();
    let bad = s.write(vec![
        AcceptDispatch(common::dispatch(100, "acme", 77010000100)),
        Feedback(feedback("boom")),
    ]);
    let (good, bad) = futures::join!(futures::future::join_all(good), bad);
    let err = bad.unwrap_err();
    assert!(err.to_string().contains("boom refused"), "{err}");
    for g in good {
        g.unwrap();
    }
    assert!(
        s.dispatch(100).await.unwrap().is_none(),
        "the failed write left nothing"
    );
    assert_eq!(s.unfinished().await.unwrap().len(), 20);
    let fb = s
        .feedback_for(sendbox_store::FeedbackKey::Msisdn(77010000001))
        .await
        .unwrap();
    assert_eq!(fb.len(), 20);
}
