//! WAL checkpoints on their own thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the
//! writer thread: in the SMS load test it took a tenth of the writer's samples (copying WAL
//! pages into the database and syncing it), time in which nothing was committed. Here the
//! writer's WAL hook (called after every commit with the WAL's size) only signals, at the same
//! threshold the automatic checkpoint used, and a thread with its own connection runs a
//! PASSIVE checkpoint (it never waits for, or blocks, the writer or the readers). If that
//! thread falls behind, the writer checkpoints itself at [`WRITER_BACKSTOP_PAGES`], so the
//! WAL stays bounded.

use crate::StoreError;
use crossbeam_channel::Receiver;
use rusqlite::Connection;
use rusqlite::wal::CheckpointMode;
use std::path::Path;
use std::time::Duration;

/// WAL pages (4 KiB) after which the thread checkpoints: pages rewritten by consecutive group
/// commits are copied to the database once per 16 MiB of WAL.
pub(crate) const PAGES: i32 = 4_000;

/// WAL pages at which the writer checkpoints itself: only if the thread falls behind.
pub(crate) const WRITER_BACKSTOP_PAGES: i32 = 16_000;

/// Hook `writer` (the connection of the database at `path`) to a checkpoint thread that
/// runs whenever the WAL has `pages` pages. The thread ends with the writer's connection.
pub(crate) fn install(writer: &mut Connection, path: &Path, pages: i32) -> Result<(), StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("sendbox-store-checkpoint".into())
        .spawn(move || run(&conn, &rx))
        .map_err(|e| StoreError::Commit(format!("cannot start checkpoint thread: {e}").into()))?;
    // Replaces SQLite's automatic checkpoint (itself a WAL hook).
    writer.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, size: i32| {
        after_commit(
            size,
            pages,
            || wal.checkpoint_v2(CheckpointMode::PASSIVE).map(drop),
            || {
                let _ = tx.try_send(()); // full: a checkpoint is already due
            },
        );
        Ok(())
    }))?;
    Ok(())
}

/// What the writer's WAL hook does after a commit that left `size` pages in the WAL: signal
/// the thread at `pages`, checkpoint itself at the backstop.
///
/// Never an error: SQLite runs the hook after the commit, and an error from it becomes the
/// COMMIT's result although the commit happened, so the writer reported stored writes as
/// failed (an API batch answered 503 after it was stored; records written twice). The
/// backstop checkpoint fails with SQLITE_BUSY whenever the thread is checkpointing at that
/// moment, which is harmless: the thread is doing the same work.
fn after_commit(
    size: i32,
    pages: i32,
    checkpoint: impl FnOnce() -> rusqlite::Result<()>,
    signal: impl FnOnce(),
) {
    if size >= WRITER_BACKSTOP_PAGES.max(pages) {
        if let Err(e) = checkpoint() {
            tracing::debug!(error = %e, wal_pages = size, "Backstop checkpoint skipped.");
        }
    } else if size >= pages {
        signal();
    }
}

fn run(conn: &Connection, due: &Receiver<()>) {
    while due.recv().is_ok() {
        // (busy, WAL frames, frames checkpointed); a failure is retried at the next signal.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "SQLite checkpoint failed; retrying at the next commit.");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A WAL database in a temp dir with one table `t (x)`: the dir, the file, the writer.
    fn wal_table() -> (tempfile::TempDir, PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let w = Connection::open(&path).unwrap();
        w.pragma_update(None, "journal_mode", "WAL").unwrap();
        w.execute_batch("CREATE TABLE t (x)").unwrap();
        (dir, path, w)
    }

    /// Why the hook must not fail: SQLite turns a WAL hook's error into the COMMIT's result,
    /// although the commit happened.
    #[test]
    fn a_failing_wal_hook_fails_a_commit_that_happened() {
        let (_dir, _, mut w) = wal_table();
        w.wal_hook(Some(|_: &mut rusqlite::hooks::Wal, _: i32| {
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                None,
            ))
        }))
        .unwrap();
        let e = w.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
        // The load runs' symptom: a commit failing with no more than this.
        assert_eq!(e.to_string(), "SQL logic error");
        w.wal_hook(None::<fn(&mut rusqlite::hooks::Wal, i32) -> rusqlite::Result<()>>)
            .unwrap();
        let n: i64 = w
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "the row was committed all the same");
    }

    #[test]
    fn the_backstop_checkpoint_failing_is_not_an_error_and_signals_nothing() {
        let mut signalled = 0;
        let mut tried = 0;
        for size in [PAGES - 1, PAGES, WRITER_BACKSTOP_PAGES] {
            after_commit(
                size,
                PAGES,
                || {
                    tried += 1;
                    Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                        None,
                    ))
                },
                || signalled += 1,
            );
        }
        assert_eq!((signalled, tried), (1, 1));
    }

    #[test]
    fn the_thread_checkpoints_what_the_writer_committed() {
        let (_dir, path, mut w) = wal_table();
        install(&mut w, &path, 10).unwrap();
        // The writer's hook only signals (50 pages is far below the backstop), so the
        // database file grows only when the thread copies the WAL's pages into it.
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        for _ in 0..50 {
            w.execute("INSERT INTO t VALUES (zeroblob(4000))", [])
                .unwrap();
        }
        // Bounded: 500 polls of 20 ms.
        let mut polls = 0;
        while size() < before + 50 * 4000 {
            polls += 1;
            assert!(polls < 500, "no checkpoint ran");
            std::thread::sleep(Duration::from_millis(20));
        }
        let n: i64 = w
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 50);
    }
}
