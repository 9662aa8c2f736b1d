ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_kind_check
    CHECK (actor_kind IN ('staff','patient','system','api','link')) NOT VALID; -- audit rows of shares stay (append-only)
DROP TABLE share_sends;
DROP TABLE share_studies;
DROP TABLE shares;
