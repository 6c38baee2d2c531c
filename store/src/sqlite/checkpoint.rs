//! WAL checkpoints on their own thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the
//! writer thread: in the SMS load test it took a tenth of the writer's samples (copying WAL
//! pages into the database and syncing it), time in which nothing was committed. Here a
//! thread with its own connection runs a PASSIVE checkpoint (it never waits for, or blocks,
//! the writer or the readers) every [`EVERY`]. The writer's automatic checkpoint stays as a
//! backstop at a higher threshold, so the WAL stays bounded if this thread falls behind.

use crate::StoreError;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// How often the WAL is checkpointed.
pub(crate) const EVERY: Duration = Duration::from_millis(200);

/// WAL pages (4 KiB) at which the writer checkpoints itself: only if this thread falls behind.
pub(crate) const WRITER_BACKSTOP_PAGES: u32 = 16_000;

/// Start checkpointing `path`; the thread ends when every sender of `stop` is dropped.
pub(crate) fn spawn(
    path: &Path,
    stop: Receiver<()>,
) -> Result<std::thread::JoinHandle<()>, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    std::thread::Builder::new()
        .name("sendbox-store-checkpoint".into())
        .spawn(move || run(&conn, &stop))
        .map_err(|e| StoreError::Commit(format!("cannot start checkpoint thread: {e}").into()))
}

fn run(conn: &Connection, stop: &Receiver<()>) {
    loop {
        match stop.recv_timeout(EVERY) {
            Err(RecvTimeoutError::Timeout) => {
                // (busy, WAL frames, frames checkpointed); a failure is retried next time.
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "SQLite checkpoint failed; retrying.");
                }
            }
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_checkpoints_what_the_writer_committed_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let w = Connection::open(&path).unwrap();
        w.pragma_update(None, "journal_mode", "WAL").unwrap();
        w.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        w.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        for _ in 0..50 {
            w.execute("INSERT INTO t VALUES (zeroblob(4000))", [])
                .unwrap();
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        let thread = spawn(&path, rx).unwrap();
        // The writer never checkpoints here, so the database file grows only when this
        // thread copies the WAL's pages into it.
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        // Bounded: 500 polls of 20 ms (50 checkpoint periods).
        let mut polls = 0;
        while size() < before + 50 * 4000 {
            polls += 1;
            assert!(polls < 500, "no checkpoint ran");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(tx);
        thread.join().unwrap();
        assert_eq!(
            w.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            50
        );
    }
}
