-- Fails when two departments hold the same UID (then they must be merged or
-- one removed by hand before going back).
DROP INDEX IF EXISTS studies_report_pdf_key;
DROP INDEX IF EXISTS instances_storage_key;

DROP INDEX IF EXISTS instances_sop_uid;
ALTER TABLE instances DROP CONSTRAINT instances_series_sop_uid_key;
ALTER TABLE instances ADD CONSTRAINT instances_sop_uid_key UNIQUE (sop_uid);

DROP INDEX IF EXISTS series_series_uid;
ALTER TABLE series DROP CONSTRAINT series_study_series_uid_key;
ALTER TABLE series ADD CONSTRAINT series_series_uid_key UNIQUE (series_uid);

ALTER TABLE studies DROP CONSTRAINT studies_department_study_uid_key;
ALTER TABLE studies ADD CONSTRAINT studies_study_uid_key UNIQUE (study_uid);
