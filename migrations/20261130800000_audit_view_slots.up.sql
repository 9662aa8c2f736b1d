-- Views of patient data are audited once per viewer, view (study:N,
-- series:N, report:N) and half-hour slot (audit.RecordView). A view claims
-- its slot here and writes its audit row in the same statement, only when
-- the claim is new: parallel views of one series (every frame and thumbnail
-- of it at once) record one row and wait at most for the one statement that
-- claims the slot, never in a queue behind each other (an advisory lock per
-- view queued 100 parallel image requests past the lock timeout: 500s with
-- SQLSTATE 55P03). Claims of past slots mean nothing and are purged
-- (audit.PurgeViewSlots); the audit rows stay.
CREATE TABLE audit_view_slots (
    actor_kind text NOT NULL,
    actor_name text NOT NULL,
    action     text NOT NULL,
    view       text NOT NULL,
    slot       timestamptz NOT NULL,
    PRIMARY KEY (actor_kind, actor_name, action, view, slot)
);
CREATE INDEX audit_view_slots_slot ON audit_view_slots (slot);

-- Views recorded in the current slot before the claims existed.
INSERT INTO audit_view_slots (actor_kind, actor_name, action, view, slot)
SELECT DISTINCT actor_kind, actor_name, action, details->>'view', date_bin('30 minutes', at, TIMESTAMPTZ '2000-01-01 00:00:00+00')
FROM audit_events
WHERE (details->>'view') IS NOT NULL AND at >= date_bin('30 minutes', now(), TIMESTAMPTZ '2000-01-01 00:00:00+00')
ON CONFLICT DO NOTHING;
