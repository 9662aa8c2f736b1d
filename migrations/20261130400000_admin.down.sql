DROP INDEX IF EXISTS audit_events_details;

--bun:split

DROP INDEX IF EXISTS audit_events_dept_at_id;

--bun:split

DROP INDEX IF EXISTS audit_events_at_id;

--bun:split

DROP INDEX IF EXISTS group_members_user;

--bun:split

DROP INDEX IF EXISTS study_labels_label;

--bun:split

DROP TABLE IF EXISTS department_logos;

--bun:split

ALTER TABLE departments DROP COLUMN IF EXISTS verifications, DROP COLUMN IF EXISTS sms_sender, DROP COLUMN IF EXISTS sms_prefixes;

--bun:split

ALTER TABLE users DROP COLUMN IF EXISTS must_change_password;
