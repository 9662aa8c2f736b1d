-- instances.burned_in now also says YES when the file's Recognizable Visual
-- Features (0028,0302) is YES (a face in a photograph or a 3D rendering):
-- such pixels identify the patient like burned-in text. Rows read before are
-- marked unread, so the start-up backfill (ingest.BackfillBurnedIn) reads
-- their headers again; until then they count as "may" (left out of
-- anonymized buckets only).
UPDATE instances SET burned_in = NULL WHERE burned_in IS DISTINCT FROM 'YES';
