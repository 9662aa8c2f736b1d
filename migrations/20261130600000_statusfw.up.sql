-- Status Forwarding: keyset pages over buckets in the order
-- (created_at DESC, id DESC), blocked buckets first, per department or
-- across all (service desk), by state or by creator. Each page is one
-- index range walk whatever its depth.
CREATE INDEX buckets_sf_dept ON buckets (department_id, created_at DESC, id DESC);
CREATE INDEX buckets_sf_dept_state ON buckets (department_id, state, created_at DESC, id DESC);
CREATE INDEX buckets_sf_all ON buckets (created_at DESC, id DESC);
CREATE INDEX buckets_sf_state ON buckets (state, created_at DESC, id DESC);
CREATE INDEX buckets_sf_creator ON buckets (created_by, created_at DESC, id DESC);
-- buckets_sf_dept covers what this one did, and more.
DROP INDEX IF EXISTS buckets_department;

-- Study access log: views and staff downloads name details.study_id; a
-- patient's download lists details.studies.
CREATE INDEX audit_events_study ON audit_events ((details->>'study_id'), at DESC, id DESC) WHERE (details->>'study_id') IS NOT NULL;
CREATE INDEX audit_events_download_studies ON audit_events USING gin ((details->'studies') jsonb_path_ops) WHERE action = 'study.download';
