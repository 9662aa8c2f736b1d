DROP INDEX IF EXISTS audit_events_view;
DROP TABLE IF EXISTS otp_sends;
DROP INDEX IF EXISTS buckets_state;
DROP INDEX IF EXISTS buckets_form_token;
ALTER TABLE buckets
    DROP CONSTRAINT IF EXISTS buckets_failures_max,
    DROP COLUMN IF EXISTS form_token_hash,
    DROP COLUMN IF EXISTS last_access_at,
    DROP COLUMN IF EXISTS blocked_probes,
    DROP COLUMN IF EXISTS blocked_at,
    DROP COLUMN IF EXISTS otp_expires_at,
    DROP COLUMN IF EXISTS otp_hash;
