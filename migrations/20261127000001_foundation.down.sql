DROP TABLE IF EXISTS audit_events, throttle, sessions, study_labels, labels, instances, series, studies, patients, group_members, groups, users, departments CASCADE;
--bun:split
DROP FUNCTION IF EXISTS audit_events_append_only();
--bun:split
DROP FUNCTION IF EXISTS rp_fold(text);
