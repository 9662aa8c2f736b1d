-- Burned In Annotation (0028,0301) of each instance as the file states it:
-- 'YES', 'NO', or '' when absent or another value. NULL: not read yet (rows
-- imported before this column; the server reads their stored files in the
-- background, ingest.BackfillBurnedIn). An anonymized bucket never sees an
-- instance whose pixels may carry the patient's name (buckets.LeftOut);
-- NULL counts as "may".
ALTER TABLE instances ADD COLUMN burned_in text
    CHECK (burned_in IN ('YES', 'NO', ''));

--bun:split

CREATE INDEX instances_burned_in_unread ON instances (id) WHERE burned_in IS NULL;
