DROP INDEX IF EXISTS studies_dept_report_walk;
