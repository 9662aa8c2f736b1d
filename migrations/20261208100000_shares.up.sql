-- Shares: a patient passes part of their access on to a doctor
-- (shared/buckets/share*.go, docs/sharing.md). The link's token and the
-- doctor's one-time code are stored only as keyed hashes.
CREATE TABLE shares (
    id              bigserial PRIMARY KEY,
    bucket_id       bigint NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
    token_hash      bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    channel         text NOT NULL CHECK (channel IN ('sms','email')),
    destination     text NOT NULL,
    valid_until     date NOT NULL,
    report          boolean NOT NULL DEFAULT false,
    message         text NOT NULL DEFAULT '',
    language        text NOT NULL,
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active','blocked','revoked')),
    failures        integer NOT NULL DEFAULT 0,
    code_hash       bytea,
    code_expires_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    first_opened_at timestamptz,
    last_opened_at  timestamptz,
    ended_at        timestamptz,
    ended_by        text NOT NULL DEFAULT ''
);
CREATE INDEX shares_bucket ON shares (bucket_id, created_at DESC);

-- The studies a share shows (a subset of its bucket's, checked again at
-- every request against bucket_studies).
CREATE TABLE share_studies (
    share_id bigint NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    study_id bigint NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    PRIMARY KEY (share_id, study_id)
);

-- Every message sent for a share (the link, each code), for the limits:
-- 10 per access per day, 60 s between codes of one share.
CREATE TABLE share_sends (
    id        bigserial PRIMARY KEY,
    share_id  bigint NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    bucket_id bigint NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
    kind      text NOT NULL CHECK (kind IN ('link','code')),
    at        timestamptz NOT NULL DEFAULT now(),
    outcome   text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending','sent','failed'))
);
CREATE INDEX share_sends_bucket ON share_sends (bucket_id, at DESC);
CREATE INDEX share_sends_share ON share_sends (share_id, at DESC);

-- A doctor using a share acts as "share" in the audit trail ("link" is the
-- viewer link's kind, agreed for this round; both are listed so either
-- migration order leaves the same constraint).
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_kind_check
    CHECK (actor_kind IN ('staff','patient','system','api','share','link'));
