//! SQLite schema migrations: numbered SQL files under `migrations/sqlite/`, applied in order
//! once each, recorded in `schema_version`.

use crate::StoreError;
use rusqlite::{Connection, OptionalExtension};

/// `(version, file name, SQL)`, in order. Append only: never edit an applied migration.
pub(crate) const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "0001_init.sql",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "0002_receipts_by_campaign.sql",
        include_str!("../../migrations/sqlite/0002_receipts_by_campaign.sql"),
    ),
    (
        3,
        "0003_handoffs.sql",
        include_str!("../../migrations/sqlite/0003_handoffs.sql"),
    ),
];

/// Bring the schema up to date; a no-op on an up-to-date database.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             applied_at TEXT    NOT NULL
         )",
    )?;
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    for &(version, name, sql) in MIGRATIONS {
        // IMMEDIATE takes the write lock first, so two processes opening the same file do not
        // both apply a migration.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: u32 = tx
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| {
                r.get::<_, Option<u32>>(0)
            })
            .optional()?
            .flatten()
            .unwrap_or(0);
        if current > known {
            return Err(StoreError::SchemaTooNew {
                found: current,
                known,
            });
        }
        if current >= version {
            continue;
        }
        let fail = |e: rusqlite::Error| StoreError::Migration {
            version,
            name,
            reason: e.to_string(),
        };
        tx.execute_batch(sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![version, name, jiff::Timestamp::now().to_string()],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
    Ok(())
}
