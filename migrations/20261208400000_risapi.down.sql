-- Fails while accesses created by a token exist (created_by cannot be NOT NULL then).
DROP TABLE IF EXISTS api_accesses;
DROP INDEX IF EXISTS buckets_token_form;
ALTER TABLE buckets
    DROP CONSTRAINT IF EXISTS buckets_one_creator,
    DROP COLUMN IF EXISTS created_by_token,
    ALTER COLUMN created_by SET NOT NULL;
ALTER TABLE api_tokens DROP COLUMN IF EXISTS scopes;
