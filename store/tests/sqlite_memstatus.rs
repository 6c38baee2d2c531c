//! The SQLite store turns SQLite's allocation statistics off (a process-wide mutex per
//! allocation). It can only do so before SQLite initializes, so this test is alone in its
//! binary: the store is the first thing here to touch SQLite.

#![allow(unsafe_code)] // reads SQLite's counter directly; rusqlite has no call for it

#[tokio::test]
async fn opening_the_store_first_turns_allocation_statistics_off() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("s.db").display());
    let store = sendbox_store::open(&url).await.unwrap();
    // The store has migrated a schema and holds open connections: with statistics on,
    // SQLite would count the memory they use.
    assert_eq!(store.backend(), "sqlite");
    // SAFETY: a plain read of a counter; SQLite is initialized.
    let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    assert_eq!(used, 0, "SQLite still counts its allocations");
    store.close().await.unwrap();
}
