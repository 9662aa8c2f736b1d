-- Status Forwarding's label filter. The buckets holding a label's studies
-- come from this index alone (study, then bucket); it replaces
-- bucket_studies_study, whose look-ups by study it serves as well.
CREATE INDEX bucket_studies_study_bucket ON bucket_studies (study_id, bucket_id);

--bun:split

DROP INDEX IF EXISTS bucket_studies_study;

--bun:split

-- A label held by many buckets is checked against a hash of them while the
-- page walks newest first: the walk indexes carry the columns the other
-- filters read (state, validity, creator), so that walk reads no table rows.
DROP INDEX IF EXISTS buckets_sf_dept;

--bun:split

CREATE INDEX buckets_sf_dept ON buckets (department_id, created_at DESC, id DESC) INCLUDE (state, valid_until, created_by);

--bun:split

DROP INDEX IF EXISTS buckets_sf_all;

--bun:split

CREATE INDEX buckets_sf_all ON buckets (created_at DESC, id DESC) INCLUDE (state, valid_until, created_by);

--bun:split

-- Index-only walks need the visibility map: vacuum after every 2,000 new
-- buckets rather than after 20% of the table.
ALTER TABLE buckets SET (autovacuum_vacuum_insert_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0);
