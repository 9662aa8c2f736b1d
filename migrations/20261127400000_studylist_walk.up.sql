-- Study list walk without table visits. The sort indexes carry every column
-- the list's search and filters read, so walking newest first and testing
-- "search LIKE '%muller%'", modality and report status is an index-only scan
-- (the visibility map is kept by autovacuum; the bulk loader vacuums). They
-- replace studies_dept_sort and studies_sort, which had the same keys.
-- study_date is included because PostgreSQL only answers the coalesce() key
-- from the index when the column under it is there too.
CREATE INDEX studies_dept_walk ON studies (department_id, (coalesce(study_date, '-infinity'::date)) DESC, id DESC)
    INCLUDE (study_date, search, modalities, report_status);

--bun:split

CREATE INDEX studies_walk ON studies ((coalesce(study_date, '-infinity'::date)) DESC, id DESC)
    INCLUDE (study_date, search, modalities, report_status);

--bun:split

DROP INDEX IF EXISTS studies_dept_sort;

--bun:split

DROP INDEX IF EXISTS studies_sort;

--bun:split

-- A parallel plan costs more to start (about 8 ms) than the list's index
-- walks take; on a small server the cores are better left to other requests.
ALTER TABLE studies SET (parallel_workers = 0);

--bun:split

-- The walks read the newest studies first, which are the rows not yet marked
-- all-visible. By default autovacuum comes after 20% of the table has been
-- inserted (200,000 studies at a million); every 2,000 keeps index-only
-- walks index-only, and each such vacuum reads only the pages not yet marked.
ALTER TABLE studies SET (autovacuum_vacuum_insert_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0);

--bun:split

-- A finer sample of the search column: PostgreSQL estimates "LIKE '%muller%'"
-- from its histogram, which at the default 100 entries cannot tell a name on
-- 0.5% of the studies from one on 0.01%, and then may walk a whole index for a
-- rare name. With 1,000 the estimate is good to a factor of about two.
ALTER TABLE studies ALTER COLUMN search SET STATISTICS 1000;
