-- sendbox store, PostgreSQL schema v1. *_local columns are Asia/Almaty wall time as the
-- engine recorded it.

-- The durable outbox: one row per accepted dispatch, stored before the API answers 202.
CREATE TABLE dispatches (
    id               BIGINT      PRIMARY KEY,
    account          TEXT        NOT NULL,
    campaign         BIGINT,
    channel          TEXT        NOT NULL,
    class            TEXT        NOT NULL,
    msisdn           BIGINT      NOT NULL,
    operator         TEXT        NOT NULL,
    content_ref      TEXT        NOT NULL,
    sender           TEXT        NOT NULL,
    segments         INTEGER     NOT NULL,
    reserved_tiyn    BIGINT      NOT NULL,
    accepted_at      TIMESTAMPTZ NOT NULL,
    not_before       TIMESTAMPTZ,
    state            TEXT        NOT NULL,
    state_at         TIMESTAMPTZ NOT NULL,
    handed_off_at    TIMESTAMPTZ,
    handed_off_local TEXT,
    operator_ref     TEXT,
    units            INTEGER,
    cost_tiyn        BIGINT
);
CREATE INDEX dispatches_msisdn ON dispatches (msisdn, accepted_at);
CREATE INDEX dispatches_campaign ON dispatches (campaign) WHERE campaign IS NOT NULL;

-- Restart: the ids of accepted dispatches without a receipt. A receipt deletes its row (cheaper
-- than rewriting the dispatch row), so this stays small. A dispatch is final when it has a
-- receipt; dispatches.state holds only the non-final states.
CREATE TABLE open_dispatches (
    id BIGINT PRIMARY KEY
);

-- One receipt per dispatch; seq is the billing feed's cursor. One writer connection commits
-- receipts, so seq order is commit order and a reader paging by seq never skips a row.
CREATE TABLE receipts (
    seq              BIGSERIAL   PRIMARY KEY,
    dispatch_id      BIGINT      NOT NULL UNIQUE,
    account          TEXT        NOT NULL,
    campaign         BIGINT,
    operator         TEXT        NOT NULL,
    channel          TEXT        NOT NULL,
    msisdn           BIGINT      NOT NULL,
    state            TEXT        NOT NULL,
    error            TEXT,
    segments         INTEGER     NOT NULL,
    billable_seconds INTEGER     NOT NULL,
    cost_tiyn        BIGINT      NOT NULL,
    accepted_at      TIMESTAMPTZ NOT NULL,
    handed_off_at    TIMESTAMPTZ,
    handed_off_local TEXT,
    final_at         TIMESTAMPTZ NOT NULL,
    final_local      TEXT        NOT NULL,
    inside_window    BOOLEAN     NOT NULL,
    call_detail      JSONB,
    attempt          INTEGER     NOT NULL
);
CREATE INDEX receipts_account ON receipts (account, seq);

-- Every reserve, debit, release, top-up and opening balance; signed tiyn.
CREATE TABLE ledger (
    seq         BIGSERIAL   PRIMARY KEY,
    dispatch_id BIGINT,
    account     TEXT        NOT NULL,
    kind        TEXT        NOT NULL,
    attempt     INTEGER     NOT NULL,
    amount_tiyn BIGINT      NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    UNIQUE (dispatch_id, kind, attempt)
);
CREATE INDEX ledger_account ON ledger (account) INCLUDE (amount_tiyn);

CREATE TABLE feedback (
    seq         BIGSERIAL   PRIMARY KEY,
    account     TEXT        NOT NULL,
    msisdn      BIGINT      NOT NULL,
    dispatch_id BIGINT,
    kind        TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_dispatch ON feedback (dispatch_id) WHERE dispatch_id IS NOT NULL;
CREATE INDEX feedback_msisdn ON feedback (msisdn, seq);

CREATE TABLE campaigns (
    id         BIGINT      PRIMARY KEY,
    account    TEXT        NOT NULL,
    channel    TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    total      BIGINT      NOT NULL
);

CREATE TABLE audio (
    id         TEXT        PRIMARY KEY,
    metadata   JSONB       NOT NULL,
    alaw       BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
