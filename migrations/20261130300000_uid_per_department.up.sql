-- DICOM UIDs are a namespace per department (issue 9, item 13): a STOW-RS
-- token of one department must learn nothing about another department's
-- studies, and one study sent to two departments is stored for each. The
-- UIDs stay unique within a department (ingest serialises the imports of one
-- UID with an advisory lock; the constraints below are the last guard).
ALTER TABLE studies DROP CONSTRAINT studies_study_uid_key;
ALTER TABLE studies ADD CONSTRAINT studies_department_study_uid_key UNIQUE (department_id, study_uid);

ALTER TABLE series DROP CONSTRAINT series_series_uid_key;
ALTER TABLE series ADD CONSTRAINT series_study_series_uid_key UNIQUE (study_id, series_uid);
CREATE INDEX series_series_uid ON series (series_uid);

ALTER TABLE instances DROP CONSTRAINT instances_sop_uid_key;
ALTER TABLE instances ADD CONSTRAINT instances_series_sop_uid_key UNIQUE (series_id, sop_uid);
CREATE INDEX instances_sop_uid ON instances (sop_uid);

-- Stored files are removed when no row names them any more (item 10): the
-- check looks both columns up by key.
CREATE INDEX instances_storage_key ON instances (storage_key);
CREATE INDEX studies_report_pdf_key ON studies (report_pdf_key) WHERE report_pdf_key <> '';
