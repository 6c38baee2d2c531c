//! The behavioural suite on PostgreSQL, each test in its own schema (dropped afterwards).
//!
//! The server is `SENDBOX_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`).
//! If it is unreachable the tests print `SKIPPED: ...` and pass, unless
//! `SENDBOX_REQUIRE_POSTGRES=1` (CI), where they fail.

mod common;

use common::Db;
use sendbox_store::WriteOp::*;

fn base_url() -> String {
    std::env::var("SENDBOX_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Drops the test's schema when the test ends, pass or fail.
struct DropSchema {
    base: String,
    schema: String,
}

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (base, schema) = (self.base.clone(), self.schema.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread.
        let t = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&base, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                }
            });
        });
        let _ = t.join();
    }
}

async fn connect() -> Option<tokio_postgres::Client> {
    let base = base_url();
    let required = std::env::var("SENDBOX_REQUIRE_POSTGRES").as_deref() == Ok("1");
    let mut config: tokio_postgres::Config = base.parse().expect("SENDBOX_TEST_POSTGRES url");
    config.connect_timeout(std::time::Duration::from_secs(3));
    match config.connect(tokio_postgres::NoTls).await {
        Ok((client, conn)) => {
            tokio::spawn(conn);
            Some(client)
        }
        Err(e) if required => panic!("PostgreSQL required but not reachable at {base}: {e}"),
        Err(e) => {
            // Straight to the process's stderr: libtest hides `eprintln!` of passing tests.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL not reachable at {base}: {e}"
            );
            None
        }
    }
}

async fn postgres() -> Option<Db> {
    let client = connect().await?;
    let base = base_url();
    let schema = format!("t_{:016x}", rand::random::<u64>());
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(Db {
        url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        _guard: Box::new(DropSchema { base, schema }),
    })
}

suite!(postgres);

#[tokio::test]
async fn schema_version_has_one_row_per_migration_after_reopen() {
    let Some(db) = postgres().await else { return };
    for _ in 0..3 {
        db.open().await.close().await.unwrap();
    }
    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let rows = client
        .query(
            "SELECT version, name FROM schema_version ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let rows: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        rows,
        vec![
            (1, "0001_init.sql".to_string()),
            (2, "0002_receipts_by_campaign.sql".to_string()),
            (3, "0003_handoffs.sql".to_string()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_write_does_not_fail_its_group() {
    let Some(db) = postgres().await else { return };
    let s = db.open().await;
    let good: Vec<_> = (1..=20u64)
        .map(|i| {
            s.write(vec![AcceptDispatch(common::dispatch(
                i,
                "acme",
                77010000000 + i,
            ))])
        })
        .collect();
    // units beyond PostgreSQL's INTEGER: the server refuses this write.
    let mut h = common::handoff(common::t(5));
    h.units = u32::MAX;
    let bad = s.write(vec![
        AcceptDispatch(common::dispatch(100, "acme", 77010000100)),
        HandedOff {
            id: 100,
            handoff: h,
        },
    ]);
    let (good, bad) = futures::join!(futures::future::join_all(good), bad);
    assert!(bad.is_err());
    for g in good {
        g.unwrap();
    }
    assert!(
        s.dispatch(100).await.unwrap().is_none(),
        "the failed write left nothing"
    );
    assert_eq!(s.unfinished().await.unwrap().len(), 20);
}

/// A schema-2 database (handoffs in the dispatch row) opened by this code: both dispatches
/// read as before from the old columns, and new handoffs and states apply over them.
#[tokio::test]
async fn schema_2_handoffs_move_to_their_table() {
    let Some(db) = postgres().await else { return };
    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(include_str!("../migrations/postgres/0001_init.sql"))
        .await
        .unwrap();
    client
        .batch_execute(include_str!(
            "../migrations/postgres/0002_receipts_by_campaign.sql"
        ))
        .await
        .unwrap();
    let local = common::scenarios::SCHEMA_2_LOCAL;
    client
        .batch_execute(&format!(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
             INSERT INTO schema_version (version, name) VALUES (1, '0001_init.sql'),
                 (2, '0002_receipts_by_campaign.sql');
             INSERT INTO dispatches (id, account, campaign, channel, class, msisdn, operator,
                 content_ref, sender, segments, reserved_tiyn, accepted_at, not_before, state,
                 state_at, handed_off_at, handed_off_local, operator_ref, units, cost_tiyn)
             VALUES (1, 'acme', 7, 'sms', 'service', 77010000001, 'beeline', 'hello 1',
                     'SENDBOX', 1, 1500, '{t0}', NULL, 'handed_off', '{t30}', '{t30}',
                     '{local}', 'msg-1', 1, 1200),
                    (2, 'acme', 7, 'sms', 'service', 77010000002, 'beeline', 'hello 2',
                     'SENDBOX', 1, 1500, '{t0}', NULL, 'queued', '{t25}', '{t20}',
                     '{local}', 'msg-2', 1, 1200);
             INSERT INTO open_dispatches VALUES (1), (2);",
            t0 = common::t(0),
            t20 = common::t(20),
            t25 = common::t(25),
            t30 = common::t(30),
        ))
        .await
        .unwrap();

    common::scenarios::schema_2_dispatches_read_and_move_on(&db.open().await).await;
}
