-- Per-department API tokens for machine intake (DICOMweb STOW-RS, report
-- upload). Only the SHA-256 of the token is stored: the token itself is shown
-- once, at creation, and a database dump cannot be used to push studies.
CREATE TABLE api_tokens (
    id             bigserial PRIMARY KEY,
    department_id  bigint NOT NULL REFERENCES departments(id),
    name           text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    token_hash     bytea NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX api_tokens_department ON api_tokens (department_id);
