//! An SMSC simulator speaking SMPP 3.4/5.0 over TCP, for tests, load tests and `sendbox sim smsc`.
