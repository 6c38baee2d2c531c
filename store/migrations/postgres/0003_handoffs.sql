-- A dispatch's current handoff in its own narrow table. Writing it into the dispatch row made
-- a new version of the whole row, grown by a third, and wrote its page to the WAL a second
-- time (it was written when the dispatch was accepted); inserting here does neither.
--
-- Holds the dispatch's latest handoff while it is with the operator: a later state (the
-- attempt ended, the dispatch went back to the queue) deletes it. A receipt keeps its own
-- copy of the handoff times.
CREATE TABLE handoffs (
    id           BIGINT      PRIMARY KEY, -- the dispatch
    at           TIMESTAMPTZ NOT NULL,
    local        TEXT        NOT NULL,
    operator_ref TEXT        NOT NULL,
    units        INTEGER     NOT NULL,
    cost_tiyn    BIGINT      NOT NULL
);

INSERT INTO handoffs (id, at, local, operator_ref, units, cost_tiyn)
    SELECT id, handed_off_at, COALESCE(handed_off_local, ''), COALESCE(operator_ref, ''),
        COALESCE(units, 0), COALESCE(cost_tiyn, 0)
    FROM dispatches WHERE state = 'handed_off' AND handed_off_at IS NOT NULL;

ALTER TABLE dispatches DROP COLUMN handed_off_at, DROP COLUMN handed_off_local,
    DROP COLUMN operator_ref, DROP COLUMN units, DROP COLUMN cost_tiyn;
