ALTER TABLE buckets RESET (autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor);

--bun:split

DROP INDEX IF EXISTS buckets_sf_all;

--bun:split

CREATE INDEX buckets_sf_all ON buckets (created_at DESC, id DESC);

--bun:split

DROP INDEX IF EXISTS buckets_sf_dept;

--bun:split

CREATE INDEX buckets_sf_dept ON buckets (department_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX IF NOT EXISTS bucket_studies_study ON bucket_studies (study_id);

--bun:split

DROP INDEX IF EXISTS bucket_studies_study_bucket;
