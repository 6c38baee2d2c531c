//! The writer's multi-row inserts, bound without copying their text.
//!
//! rusqlite binds every text value as `SQLITE_TRANSIENT`: SQLite allocates memory, copies the
//! text into it, and frees it at the next bind. An SMS binds about 18 text values across its
//! dispatch, handoff, receipt and ledger rows. In profiles of the SMS throughput run those
//! copies were the writer's largest single item: 3.6 % of the engine's samples in the copy
//! and the call alone, before the allocations and frees under them. rusqlite 0.43 cannot bind `SQLITE_STATIC` (rusqlite#164),
//! so this is where the crate stops and we take over: the statements here are prepared on the
//! connection's raw handle and text is bound `SQLITE_STATIC`, read by SQLite in place.
//!
//! That is sound only while the text outlives its use, which [`RawStatement::execute`] turns
//! into a lifetime: its [`Binder`] takes only text that outlives the call, the statement runs
//! inside the call, and the bindings are cleared (set to NULL) and the statement reset before
//! the call returns, whatever happened. Nothing else can reach the statement in between: it
//! is borrowed mutably for the whole call.

#![allow(unsafe_code)]

use crate::StoreError;
use rusqlite::{Connection, ffi};
use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A statement prepared on the writer's connection. It must be dropped before that
/// connection: [`RawStatements`] lives in the writer next to the connection and is declared
/// after it.
#[derive(Debug)]
pub(crate) struct RawStatement {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: NonNull<ffi::sqlite3>,
}

impl RawStatement {
    /// Prepare `sql` (one statement) on `conn`.
    pub(crate) fn prepare(conn: &Connection, sql: &str) -> Result<Self, StoreError> {
        // SAFETY: the handle is the live connection's; SQLite is only called from the thread
        // that owns `conn` (the writer), as rusqlite itself would.
        let db = unsafe { conn.handle() };
        let db = NonNull::new(db).ok_or_else(|| StoreError::Commit("connection closed".into()))?;
        let len = c_int::try_from(sql.len())
            .map_err(|_| StoreError::InvalidWrite("statement text too long".into()))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `sql` is valid for `len` bytes; the tail pointer may be null. The flag asks
        // SQLite to keep the statement for the connection's lifetime (lookaside not used).
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc));
        }
        let stmt = NonNull::new(stmt)
            .ok_or_else(|| StoreError::InvalidWrite(format!("empty statement: {sql:?}")))?;
        Ok(RawStatement { stmt, db })
    }

    /// Bind with `bind`, run to completion, and return the number of rows changed.
    ///
    /// `'a` outlives this call, so every text bound lives until the bindings are cleared
    /// below.
    pub(crate) fn execute<'a>(
        &mut self,
        bind: impl FnOnce(&mut Binder<'_, 'a>) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut b = Binder {
            stmt: self,
            _text: PhantomData,
        };
        let result = bind(&mut b).and_then(|()| b.stmt.step());
        // SAFETY: the statement is live. Reset ends the execution; clearing the bindings
        // makes SQLite forget every pointer bound above before the texts can go away.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
            ffi::sqlite3_clear_bindings(self.stmt.as_ptr());
        }
        result
    }

    fn step(&mut self) -> Result<usize, StoreError> {
        // SAFETY: the statement is live and its bindings are valid (see `execute`).
        let rc = unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) };
        match rc {
            ffi::SQLITE_DONE => {
                // SAFETY: the connection is live.
                let n = unsafe { ffi::sqlite3_changes64(self.db.as_ptr()) };
                Ok(usize::try_from(n).unwrap_or(0))
            }
            ffi::SQLITE_ROW => Err(StoreError::InvalidWrite(
                "an insert returned rows".to_owned(),
            )),
            rc => Err(error(self.db, rc)),
        }
    }

    fn check(&self, rc: c_int) -> Result<(), StoreError> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error(self.db, rc))
        }
    }
}

impl Drop for RawStatement {
    fn drop(&mut self) {
        // SAFETY: finalized once, here; the connection is still open (see the type's doc).
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// Binds one execution's parameters (1-based, as in SQL `?N`); text must live for `'a`.
#[derive(Debug)]
pub(crate) struct Binder<'s, 'a> {
    stmt: &'s mut RawStatement,
    _text: PhantomData<&'a str>,
}

impl<'a> Binder<'_, 'a> {
    /// An integer.
    pub(crate) fn int(&mut self, i: usize, v: i64) -> Result<(), StoreError> {
        // SAFETY: the statement is live; an out-of-range index is reported as SQLITE_RANGE.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.stmt.stmt.as_ptr(), index(i)?, v) };
        self.stmt.check(rc)
    }

    /// An integer or NULL.
    pub(crate) fn opt_int(&mut self, i: usize, v: Option<i64>) -> Result<(), StoreError> {
        match v {
            Some(v) => self.int(i, v),
            None => self.null(i),
        }
    }

    /// Text, read in place by SQLite until the execution ends.
    pub(crate) fn text(&mut self, i: usize, v: &'a str) -> Result<(), StoreError> {
        // SAFETY: `v` is valid UTF-8 for `v.len()` bytes and lives for `'a`, beyond the
        // execution (see `RawStatement::execute`), so SQLITE_STATIC (no copy, no destructor)
        // is sound.
        let rc = unsafe {
            ffi::sqlite3_bind_text64(
                self.stmt.stmt.as_ptr(),
                index(i)?,
                v.as_ptr().cast(),
                v.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as u8,
            )
        };
        self.stmt.check(rc)
    }

    /// Text or NULL.
    pub(crate) fn opt_text(&mut self, i: usize, v: Option<&'a str>) -> Result<(), StoreError> {
        match v {
            Some(v) => self.text(i, v),
            None => self.null(i),
        }
    }

    /// NULL.
    pub(crate) fn null(&mut self, i: usize) -> Result<(), StoreError> {
        // SAFETY: the statement is live.
        let rc = unsafe { ffi::sqlite3_bind_null(self.stmt.stmt.as_ptr(), index(i)?) };
        self.stmt.check(rc)
    }
}

fn index(i: usize) -> Result<c_int, StoreError> {
    c_int::try_from(i).map_err(|_| StoreError::InvalidWrite(format!("parameter {i} out of range")))
}

/// The connection's error for `rc`, as rusqlite reports it.
fn error(db: NonNull<ffi::sqlite3>, rc: c_int) -> StoreError {
    // SAFETY: the connection is live; the message is a NUL-terminated string owned by SQLite,
    // copied before any other call on the connection.
    let msg = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned();
    StoreError::Sqlite(rusqlite::Error::SqliteFailure(
        ffi::Error::new(rc),
        Some(msg),
    ))
}

/// The writer's raw statements, prepared on first use and kept for the connection's life.
/// Keyed by the address of their `static` text, as [`super::apply::Statements`] is.
#[derive(Debug, Default)]
pub(crate) struct RawStatements {
    prepared: Vec<(usize, RawStatement)>,
}

impl RawStatements {
    /// The statement for `sql` on `conn` (the writer's connection, always the same one).
    pub(crate) fn get(
        &mut self,
        conn: &Connection,
        sql: &'static str,
    ) -> Result<&mut RawStatement, StoreError> {
        let key = sql.as_ptr() as usize;
        let i = match self.prepared.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.prepared.push((key, RawStatement::prepare(conn, sql)?));
                self.prepared.len() - 1
            }
        };
        Ok(&mut self.prepared[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER UNIQUE)")
            .unwrap();
        c
    }

    #[test]
    fn text_bound_in_place_is_stored_and_outlives_the_caller_buffer() {
        let c = conn();
        let mut s =
            RawStatement::prepare(&c, "INSERT INTO t (a, b) VALUES (?1, ?2), (?3, ?4)").unwrap();
        for round in 0..3 {
            // Fresh buffers each round, dropped right after: SQLite must not keep them.
            let first = format!("Қазақ мәтіні {round}");
            let second = String::from("latin");
            let n = s
                .execute(|b| {
                    b.text(1, &first)?;
                    b.int(2, round * 2)?;
                    b.opt_text(3, Some(&second))?;
                    b.opt_int(4, Some(round * 2 + 1))
                })
                .unwrap();
            assert_eq!(n, 2);
        }
        let rows: Vec<(String, i64)> = c
            .prepare("SELECT a, b FROM t ORDER BY b")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[4], ("Қазақ мәтіні 2".to_owned(), 4));
        assert_eq!(rows[5], ("latin".to_owned(), 5));
    }

    #[test]
    fn a_failed_step_reports_sqlite_error_and_leaves_the_statement_usable() {
        let c = conn();
        let mut s = RawStatement::prepare(&c, "INSERT INTO t (a, b) VALUES (?1, ?2)").unwrap();
        s.execute(|b| {
            b.text(1, "x")?;
            b.int(2, 1)
        })
        .unwrap();
        let err = s
            .execute(|b| {
                b.text(1, "y")?;
                b.int(2, 1)
            })
            .unwrap_err();
        assert!(
            err.to_string().contains("UNIQUE constraint failed: t.b"),
            "{err}"
        );
        // Bindings were cleared: unbound parameters are NULL.
        assert_eq!(s.execute(|b| b.int(2, 2)).unwrap(), 1);
        let a: Option<String> = c
            .query_row("SELECT a FROM t WHERE b = 2", [], |r| r.get(0))
            .unwrap();
        assert_eq!(a, None);
    }

    #[test]
    fn a_bad_parameter_index_and_bad_sql_are_errors() {
        let c = conn();
        let mut s = RawStatement::prepare(&c, "INSERT INTO t (b) VALUES (?1)").unwrap();
        let err = s.execute(|b| b.int(2, 1)).unwrap_err();
        assert!(
            err.to_string().contains("column index out of range"),
            "{err}"
        );
        let err = RawStatement::prepare(&c, "INSERT INTO nope VALUES (1)").unwrap_err();
        assert!(err.to_string().contains("no such table: nope"), "{err}");
    }

    #[test]
    fn statements_are_prepared_once_per_text() {
        static SQL: &str = "INSERT INTO t (b) VALUES (?1)";
        let c = conn();
        let mut all = RawStatements::default();
        for i in 0..3 {
            all.get(&c, SQL).unwrap().execute(|b| b.int(1, i)).unwrap();
        }
        assert_eq!(all.prepared.len(), 1);
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
    }
}
