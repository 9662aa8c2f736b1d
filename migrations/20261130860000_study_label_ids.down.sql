ALTER TABLE studies RESET (autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor);

--bun:split

DROP TRIGGER IF EXISTS study_labels_upd_label_ids ON study_labels;

--bun:split

DROP TRIGGER IF EXISTS study_labels_del_label_ids ON study_labels;

--bun:split

DROP TRIGGER IF EXISTS study_labels_ins_label_ids ON study_labels;

--bun:split

DROP FUNCTION IF EXISTS study_labels_upd_label_ids();

--bun:split

DROP FUNCTION IF EXISTS study_labels_del_label_ids();

--bun:split

DROP FUNCTION IF EXISTS study_labels_ins_label_ids();

--bun:split

DROP FUNCTION IF EXISTS studies_label_ids_refresh(bigint[]);

--bun:split

DROP INDEX IF EXISTS studies_label_ids;

--bun:split

ALTER TABLE studies DROP COLUMN IF EXISTS label_ids;
