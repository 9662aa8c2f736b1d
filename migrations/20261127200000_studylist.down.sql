DROP INDEX IF EXISTS patients_patient_id;

--bun:split

DROP INDEX IF EXISTS studies_accession;

--bun:split

DROP INDEX IF EXISTS studies_sort;

--bun:split

DROP INDEX IF EXISTS studies_dept_sort;

--bun:split

DROP TRIGGER IF EXISTS patients_search_refresh ON patients;

--bun:split

DROP FUNCTION IF EXISTS patients_search_refresh();

--bun:split

DROP TRIGGER IF EXISTS studies_search_fill ON studies;

--bun:split

DROP FUNCTION IF EXISTS studies_search_fill();

--bun:split

ALTER TABLE studies DROP COLUMN IF EXISTS search;
