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
        if size >= WRITER_BACKSTOP_PAGES.max(pages) {
            wal.checkpoint_v2(CheckpointMode::PASSIVE)?;
        } else if size >= pages {
            let _ = tx.try_send(()); // full: a checkpoint is already due
        }
        Ok(())
    }))?;
    Ok(())
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

    #[test]
    fn the_thread_checkpoints_what_the_writer_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut w = Connection::open(&path).unwrap();
        w.pragma_update(None, "journal_mode", "WAL").unwrap();
        w.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
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
