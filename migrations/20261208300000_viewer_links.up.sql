-- viewer_links: a patient's capability URLs that serve their access's
-- studies over DICOMweb (read only). Only a keyed hash of the token is kept
-- (keys.ViewerLinkHash); a link ends when it is revoked, when it expires, or
-- when its bucket stops being active (checked on every request).
CREATE TABLE viewer_links (
    id           bigserial PRIMARY KEY,
    bucket_id    bigint NOT NULL REFERENCES buckets (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX viewer_links_bucket ON viewer_links (bucket_id);

-- A viewer link's requests are audited as actor kind 'link' (audit.ViewerLink);
-- 'share' is the doctor share's kind, allowed here too so either migration
-- may run last.
ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_actor_kind_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_kind_check
    CHECK (actor_kind IN ('staff','patient','system','api','link','share'));
