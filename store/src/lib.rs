//! Billing store, history and outbox: SQLite (embedded) and PostgreSQL backends.
