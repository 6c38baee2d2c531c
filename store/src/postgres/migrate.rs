//! PostgreSQL schema migrations: numbered SQL files under `migrations/postgres/`, applied in
//! order once each, recorded in `schema_version`, under an advisory lock so that two engines
//! starting together do not both migrate.

use crate::StoreError;
use tokio_postgres::Client;

/// `(version, file name, SQL)`, in order. Append only: never edit an applied migration.
pub(crate) const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "0001_init.sql",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "0002_receipts_by_campaign.sql",
        include_str!("../../migrations/postgres/0002_receipts_by_campaign.sql"),
    ),
    (
        3,
        "0003_handoffs.sql",
        include_str!("../../migrations/postgres/0003_handoffs.sql"),
    ),
];

/// Bring the schema (the first schema in `search_path`) up to date.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('sendbox-store-migrate'))",
        &[],
    )
    .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER     PRIMARY KEY,
             name       TEXT        NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let current: Option<i32> = tx
        .query_one("SELECT MAX(version) FROM schema_version", &[])
        .await?
        .get(0);
    let current = current.unwrap_or(0) as u32;
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for &(version, name, sql) in MIGRATIONS {
        if version <= current {
            continue;
        }
        let fail = |e: tokio_postgres::Error| StoreError::Migration {
            version,
            name,
            reason: e.to_string(),
        };
        tx.batch_execute(sql).await.map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
            &[&(version as i32), &name],
        )
        .await
        .map_err(fail)?;
    }
    tx.commit().await?;
    Ok(())
}
