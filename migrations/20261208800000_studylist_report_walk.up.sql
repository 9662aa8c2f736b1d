-- Study list walk for a report filter. A name search with "report: yes" or
-- "report: no" walks newest first and keeps the entries that pass; with the
-- report status in the key, the walk reads only the entries of that status
-- (a third or two thirds of the department) instead of testing every one: at
-- 10 million studies, "Müller" + CT + no report read 112,607 index entries
-- for its page, now 37,528. The key is the boolean the queries test,
-- so "yes" (final or preliminary) is one range too; "no" is written
-- "(report_status <> 'none') IS FALSE", a form PostgreSQL does not rewrite
-- into "report_status = 'none'" (which this index would not answer).
-- Covering like studies_dept_walk, so the walk never visits the table.
CREATE INDEX studies_dept_report_walk ON studies (department_id, (report_status <> 'none'),
    (coalesce(study_date, '-infinity'::date)) DESC, id DESC)
    INCLUDE (study_date, search, modalities, report_status);
