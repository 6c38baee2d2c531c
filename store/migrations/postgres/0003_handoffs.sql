-- A dispatch's current handoff in its own narrow table. Writing it into the dispatch row made
-- a new version of the whole row, grown by a third, and wrote its page to the WAL a second
-- time (it was written when the dispatch was accepted); inserting here does neither.
--
-- Holds the dispatch's latest handoff; a later state (the attempt ended, the dispatch went
-- back to the queue) deletes it. A receipt keeps its own copy of the handoff times.
CREATE TABLE handoffs (
    id           BIGINT      PRIMARY KEY, -- the dispatch
    at           TIMESTAMPTZ NOT NULL,
    local        TEXT        NOT NULL,
    operator_ref TEXT        NOT NULL,
    units        INTEGER     NOT NULL,
    cost_tiyn    BIGINT      NOT NULL
);

-- No data moves: the dispatch row's handoff columns keep what earlier versions wrote, and
-- are read as the handoff of a dispatch that has no row here (rewriting a large dispatches
-- table to drop them would hold up the upgrade). Nothing writes them any more.
