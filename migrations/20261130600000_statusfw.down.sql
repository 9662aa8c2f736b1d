DROP INDEX IF EXISTS audit_events_download_studies;
DROP INDEX IF EXISTS audit_events_study;
CREATE INDEX IF NOT EXISTS buckets_department ON buckets (department_id, created_at DESC);
DROP INDEX IF EXISTS buckets_sf_creator;
DROP INDEX IF EXISTS buckets_sf_state;
DROP INDEX IF EXISTS buckets_sf_all;
DROP INDEX IF EXISTS buckets_sf_dept_state;
DROP INDEX IF EXISTS buckets_sf_dept;
