ALTER TABLE studies ALTER COLUMN search SET STATISTICS -1;

--bun:split

ALTER TABLE studies RESET (parallel_workers, autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor);

--bun:split

CREATE INDEX IF NOT EXISTS studies_sort ON studies ((coalesce(study_date, '-infinity'::date)) DESC, id DESC);

--bun:split

CREATE INDEX IF NOT EXISTS studies_dept_sort ON studies (department_id, (coalesce(study_date, '-infinity'::date)) DESC, id DESC);

--bun:split

DROP INDEX IF EXISTS studies_walk;

--bun:split

DROP INDEX IF EXISTS studies_dept_walk;
