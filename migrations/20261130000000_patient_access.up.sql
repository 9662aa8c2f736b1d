-- Patient access: the one-time password of a bucket (only its keyed hash),
-- the sends that rate limits count, and the one-time token of a print form
-- (a repeated submit of one form creates nothing new).
ALTER TABLE buckets
    ADD COLUMN otp_hash        bytea CHECK (otp_hash IS NULL OR length(otp_hash) = 32),
    ADD COLUMN otp_expires_at  timestamptz,
    ADD COLUMN blocked_at      timestamptz,
    -- birth-date checks made while blocked: past a few, even a matching
    -- birth date gets the generic answer (no birth-date oracle)
    ADD COLUMN blocked_probes  int NOT NULL DEFAULT 0 CHECK (blocked_probes >= 0),
    ADD COLUMN last_access_at  timestamptz,
    ADD COLUMN form_token_hash bytea CHECK (form_token_hash IS NULL OR length(form_token_hash) = 32),
    ADD CONSTRAINT buckets_failures_max CHECK (failures <= 5);
CREATE UNIQUE INDEX buckets_form_token ON buckets (created_by, form_token_hash) WHERE form_token_hash IS NOT NULL;
CREATE INDEX buckets_state ON buckets (department_id, state, created_at DESC);

CREATE TABLE otp_sends (
    id         bigserial PRIMARY KEY,
    bucket_id  bigint NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    ip         text NOT NULL DEFAULT '',
    channel    text NOT NULL CHECK (channel IN ('sms','email')),
    outcome    text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending','sent','failed'))
);
CREATE INDEX otp_sends_bucket ON otp_sends (bucket_id, at DESC);
CREATE INDEX otp_sends_ip ON otp_sends (ip, at DESC);

-- Views of patient data are recorded once per viewer, study/series and half
-- hour (audit.RecordView), not once per frame: this index finds the last one.
CREATE INDEX audit_events_view ON audit_events (actor_name, (details->>'view'), at DESC) WHERE (details->>'view') IS NOT NULL;
