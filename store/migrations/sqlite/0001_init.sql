-- sendbox store, SQLite schema v1. Times are INTEGER microseconds since the Unix epoch (UTC);
-- *_local columns are Asia/Almaty wall time as the engine recorded it.

-- The durable outbox: one row per accepted dispatch, stored before the API answers 202.
CREATE TABLE dispatches (
    id               INTEGER PRIMARY KEY,
    account          TEXT    NOT NULL,
    campaign         INTEGER,
    channel          TEXT    NOT NULL,
    class            TEXT    NOT NULL,
    msisdn           INTEGER NOT NULL,
    operator         TEXT    NOT NULL,
    content_ref      TEXT    NOT NULL,
    sender           TEXT    NOT NULL,
    segments         INTEGER NOT NULL,
    reserved_tiyn    INTEGER NOT NULL,
    accepted_at      INTEGER NOT NULL,
    not_before       INTEGER,
    state            TEXT    NOT NULL,
    state_at         INTEGER NOT NULL,
    handed_off_at    INTEGER,
    handed_off_local TEXT,
    operator_ref     TEXT,
    units            INTEGER,
    cost_tiyn        INTEGER
);
-- Compliance history and reply linking: every dispatch to a number, by time.
CREATE INDEX dispatches_msisdn ON dispatches (msisdn, accepted_at);
CREATE INDEX dispatches_campaign ON dispatches (campaign) WHERE campaign IS NOT NULL;

-- Restart: the ids of accepted dispatches without a receipt. A receipt deletes its row (cheaper
-- than rewriting the dispatch row), so this stays small. A dispatch is final when it has a
-- receipt; dispatches.state holds only the non-final states.
CREATE TABLE open_dispatches (
    id INTEGER PRIMARY KEY
);

-- One receipt per dispatch (unique dispatch_id: a second one is ignored, billed once).
-- seq is the billing feed's cursor, increasing in commit order (one writer).
CREATE TABLE receipts (
    seq              INTEGER PRIMARY KEY,
    dispatch_id      INTEGER NOT NULL UNIQUE,
    account          TEXT    NOT NULL,
    campaign         INTEGER,
    operator         TEXT    NOT NULL,
    channel          TEXT    NOT NULL,
    msisdn           INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    error            TEXT,
    segments         INTEGER NOT NULL,
    billable_seconds INTEGER NOT NULL,
    cost_tiyn        INTEGER NOT NULL,
    accepted_at      INTEGER NOT NULL,
    handed_off_at    INTEGER,
    handed_off_local TEXT,
    final_at         INTEGER NOT NULL,
    final_local      TEXT    NOT NULL,
    inside_window    INTEGER NOT NULL,
    call_detail      TEXT,
    attempt          INTEGER NOT NULL
);
CREATE INDEX receipts_account ON receipts (account, seq);

-- Every reserve, debit, release, top-up and opening balance; signed tiyn.
-- Unique per (dispatch_id, kind, attempt): a debit written twice charges once. Rows without a
-- dispatch (NULL) never conflict.
CREATE TABLE ledger (
    seq         INTEGER PRIMARY KEY,
    dispatch_id INTEGER,
    account     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    amount_tiyn INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    UNIQUE (dispatch_id, kind, attempt)
);
-- Balances at restart: a covering index, so the sum reads no table rows.
CREATE INDEX ledger_account ON ledger (account, amount_tiyn);

-- Inbound replies and DTMF digits.
CREATE TABLE feedback (
    seq         INTEGER PRIMARY KEY,
    account     TEXT    NOT NULL,
    msisdn      INTEGER NOT NULL,
    dispatch_id INTEGER,
    kind        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX feedback_dispatch ON feedback (dispatch_id) WHERE dispatch_id IS NOT NULL;
CREATE INDEX feedback_msisdn ON feedback (msisdn, seq);

CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY,
    account    TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    total      INTEGER NOT NULL
);

-- Audio prompts: id is the content hash.
CREATE TABLE audio (
    id         TEXT    PRIMARY KEY,
    metadata   TEXT    NOT NULL,
    alaw       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
