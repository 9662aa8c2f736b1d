-- "Contains labels" with a name search. studies.label_ids holds the ids of
-- the labels on the study (for anyone: the viewer's own labels are still
-- checked in study_labels), so a GIN index on it gives PostgreSQL a bitmap of
-- a label's studies to AND with the trigram bitmap of the name: a common
-- label with a common name then reads the few studies that have both from
-- the table, not every study with the name.
ALTER TABLE studies ADD COLUMN label_ids bigint[] NOT NULL DEFAULT '{}';

--bun:split

-- Recomputes label_ids of the given studies from study_labels. The studies
-- are locked first (in id order) and counted in a later statement, which in
-- READ COMMITTED sees every change committed before the lock was granted:
-- two transactions labelling one study each recompute after the other's
-- commit, so the last one sees both.
CREATE FUNCTION studies_label_ids_refresh(changed bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM studies WHERE id = ANY(changed) ORDER BY id FOR NO KEY UPDATE;
    UPDATE studies s SET label_ids = x.ids
      FROM (SELECT c.id, coalesce(array_agg(DISTINCT sl.label_id ORDER BY sl.label_id)
                                    FILTER (WHERE sl.label_id IS NOT NULL), '{}') AS ids
              FROM unnest(changed) AS c(id)
              LEFT JOIN study_labels sl ON sl.study_id = c.id
             GROUP BY c.id) x
     WHERE s.id = x.id AND s.label_ids IS DISTINCT FROM x.ids;
END $$;

--bun:split

-- One trigger per event (transition tables allow no more), per statement:
-- a label put on 17,000 studies at once, or a label deleted (its rows go by
-- cascade), recomputes each study once.
CREATE FUNCTION study_labels_ins_label_ids() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM studies_label_ids_refresh(ARRAY(SELECT DISTINCT study_id FROM new_rows));
    RETURN NULL;
END $$;

--bun:split

CREATE FUNCTION study_labels_del_label_ids() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM studies_label_ids_refresh(ARRAY(SELECT DISTINCT study_id FROM old_rows));
    RETURN NULL;
END $$;

--bun:split

CREATE FUNCTION study_labels_upd_label_ids() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM studies_label_ids_refresh(ARRAY(
        SELECT study_id FROM old_rows UNION SELECT study_id FROM new_rows));
    RETURN NULL;
END $$;

--bun:split

CREATE TRIGGER study_labels_ins_label_ids AFTER INSERT ON study_labels
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION study_labels_ins_label_ids();

--bun:split

CREATE TRIGGER study_labels_del_label_ids AFTER DELETE ON study_labels
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION study_labels_del_label_ids();

--bun:split

CREATE TRIGGER study_labels_upd_label_ids AFTER UPDATE ON study_labels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION study_labels_upd_label_ids();

--bun:split

UPDATE studies s SET label_ids = x.ids
  FROM (SELECT study_id, array_agg(DISTINCT label_id ORDER BY label_id) AS ids
          FROM study_labels GROUP BY study_id) x
 WHERE s.id = x.study_id;

--bun:split

CREATE INDEX studies_label_ids ON studies USING gin (label_ids);

--bun:split

-- Labelling a study updates its row (not in place: label_ids is indexed),
-- which takes its page out of the visibility map until the next vacuum, and
-- the list's index-only walks then visit the table for it. Vacuum after
-- every 2,000 such updates rather than after 20% of the table.
ALTER TABLE studies SET (autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_scale_factor = 0);
