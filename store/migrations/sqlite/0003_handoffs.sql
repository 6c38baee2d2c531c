-- A dispatch's current handoff in its own narrow table. Writing it into the dispatch row
-- rewrote a row that had grown by a third, and wrote that row's page to the WAL a second time
-- (it was written when the dispatch was accepted); appending here does neither.
--
-- Holds the dispatch's latest handoff while it is with the operator: a later state (the
-- attempt ended, the dispatch went back to the queue) deletes it. A receipt keeps its own
-- copy of the handoff times.
CREATE TABLE handoffs (
    id           INTEGER PRIMARY KEY, -- the dispatch
    at           INTEGER NOT NULL,
    local        TEXT    NOT NULL,
    operator_ref TEXT    NOT NULL,
    units        INTEGER NOT NULL,
    cost_tiyn    INTEGER NOT NULL
);

INSERT INTO handoffs (id, at, local, operator_ref, units, cost_tiyn)
    SELECT id, handed_off_at, COALESCE(handed_off_local, ''), COALESCE(operator_ref, ''),
        COALESCE(units, 0), COALESCE(cost_tiyn, 0)
    FROM dispatches WHERE state = 'handed_off' AND handed_off_at IS NOT NULL;

ALTER TABLE dispatches DROP COLUMN handed_off_at;
ALTER TABLE dispatches DROP COLUMN handed_off_local;
ALTER TABLE dispatches DROP COLUMN operator_ref;
ALTER TABLE dispatches DROP COLUMN units;
ALTER TABLE dispatches DROP COLUMN cost_tiyn;
