-- The RIS API (issue 18): token scopes, accesses created by a machine token,
-- and what the API keeps of such an access.

-- A token may do only what its scopes name; every token before this one did
-- all three.
ALTER TABLE api_tokens
    ADD COLUMN scopes text[] NOT NULL DEFAULT '{stow,report,access}'
        CHECK (cardinality(scopes) > 0 AND scopes <@ '{stow,report,access}'::text[]);

-- An access is created by a staff user (the print form) or by a machine
-- token (POST /api/v1/accesses): exactly one of the two.
ALTER TABLE buckets
    ALTER COLUMN created_by DROP NOT NULL,
    ADD COLUMN created_by_token bigint REFERENCES api_tokens(id),
    ADD CONSTRAINT buckets_one_creator CHECK (num_nonnulls(created_by, created_by_token) = 1);
-- The Idempotency-Key of a token: one access per key (the form token index
-- of staff prints, for tokens).
CREATE UNIQUE INDEX buckets_token_form ON buckets (created_by_token, form_token_hash)
    WHERE form_token_hash IS NOT NULL AND created_by_token IS NOT NULL;

-- What the API keeps of an access it created: the SHA-256 of its
-- Idempotency-Key and of the request (a replayed key with another body is
-- refused) and, until
-- letter_until, the reference number sealed (AES-GCM, never readable from a
-- dump) so the letter can be downloaded; after that the number is gone.
CREATE TABLE api_accesses (
    bucket_id     bigint PRIMARY KEY REFERENCES buckets(id) ON DELETE CASCADE,
    token_id      bigint NOT NULL REFERENCES api_tokens(id),
    idempotency_hash bytea CHECK (length(idempotency_hash) = 32),
    request_hash  bytea NOT NULL CHECK (length(request_hash) = 32),
    sealed_ref    text,
    letter_until  timestamptz NOT NULL
);
CREATE UNIQUE INDEX api_accesses_idempotency ON api_accesses (token_id, idempotency_hash) WHERE idempotency_hash IS NOT NULL;
CREATE INDEX api_accesses_letter_until ON api_accesses (letter_until) WHERE sealed_ref IS NOT NULL;
