-- Files that store their SOP Class UID with VR UN were imported with an empty
-- class before import read UN values with the dictionary's VR. Mark them
-- unread, so the start-up backfill (ingest.BackfillBurnedIn) reads them again
-- with the new reader and fills in their class and Burned In Annotation.
UPDATE instances SET burned_in = NULL WHERE sop_class_uid = '';
