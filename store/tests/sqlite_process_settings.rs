//! Process-wide SQLite settings the store makes (allocation statistics off, page cache
//! wrapped). SQLite accepts them only before it initializes, so these tests are alone in
//! their binary and each opens the store before touching SQLite.

#![allow(unsafe_code)] // reads SQLite's counter directly; rusqlite has no call for it

use rusqlite::Connection;

async fn store_in(dir: &tempfile::TempDir) -> std::sync::Arc<dyn sendbox_store::Store> {
    let url = format!("sqlite:{}", dir.path().join("s.db").display());
    sendbox_store::open(&url).await.unwrap()
}

/// Octets of page cache the connection holds (`SQLITE_DBSTATUS_CACHE_USED`).
fn cache_used(c: &Connection) -> i64 {
    let (mut cur, mut hi) = (0, 0);
    // SAFETY: a live connection's handle, used on its own thread; SQLite writes two ints.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_db_status(
            c.handle(),
            rusqlite::ffi::SQLITE_DBSTATUS_CACHE_USED,
            &mut cur,
            &mut hi,
            0,
        )
    };
    assert_eq!(rc, rusqlite::ffi::SQLITE_OK);
    i64::from(cur)
}

#[tokio::test]
async fn opening_the_store_first_turns_allocation_statistics_off() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    // The store has migrated a schema and holds open connections: with statistics on,
    // SQLite would count the memory they use.
    assert_eq!(store.backend(), "sqlite");
    // SAFETY: a plain read of a counter; SQLite is initialized.
    let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    assert_eq!(used, 0, "SQLite still counts its allocations");
    store.close().await.unwrap();
}

/// Random keys in an index split B-tree nodes (where SQLite parks pages under the locking
/// page's number), transactions that grew the file are rolled back, and a VACUUM shrinks it,
/// which leaves pages above the database's new size in the cache for the truncation to drop.
/// Through all of it the wrapped cache must give SQLite exactly what the default one would.
#[tokio::test]
async fn the_wrapped_page_cache_skips_empty_truncations_and_keeps_the_database_intact() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir).await;
    let before = sendbox_store::sqlite_cache_truncations_skipped();

    let path = dir.path().join("t.db");
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.execute_batch(
        "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE INDEX t_v ON t (v);",
    )
    .unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut expected = 0i64;
    for batch in 0..40 {
        let tx = c.unchecked_transaction().unwrap();
        for _ in 0..500 {
            tx.execute(
                "INSERT INTO t (v) VALUES (?1)",
                [format!("{:016x}{}", next(), "x".repeat(40))],
            )
            .unwrap();
        }
        if batch % 10 == 9 {
            // Grow the file by far more than the cache's hash table, then roll back.
            for _ in 0..2_000 {
                tx.execute(
                    "INSERT INTO t (v) VALUES (?1)",
                    [format!("{:016x}{}", next(), "y".repeat(900))],
                )
                .unwrap();
            }
            tx.rollback().unwrap();
        } else {
            tx.commit().unwrap();
            expected += 500;
        }
    }
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let (n, long): (i64, i64) = c
        .query_row(
            "SELECT count(*), sum(length(v) > 100) FROM t INDEXED BY t_v WHERE v > ''",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (n, long),
        (expected, 0),
        "rolled-back rows are gone, committed rows are all there"
    );
    // A fresh connection (its own cache) reads the same database.
    let fresh = Connection::open(&path).unwrap();
    let n2: i64 = fresh
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n2, expected);

    // Shrinking the database must drop the cached pages above its new size: the truncation
    // that does it is forwarded, so the cache's memory falls with the file.
    let grown = cache_used(&c);
    c.execute_batch("DELETE FROM t; VACUUM;").unwrap();
    let shrunk = cache_used(&c);
    assert!(
        grown > 1_000_000 && shrunk < grown / 10,
        "page cache {grown} octets before the VACUUM, {shrunk} after"
    );
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    let skipped = sendbox_store::sqlite_cache_truncations_skipped() - before;
    assert!(
        skipped >= 30,
        "the wrapper is in place and skipped empty truncations: {skipped}"
    );
    store.close().await.unwrap();
}
