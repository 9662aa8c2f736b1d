-- Nothing to undo: the backfill only filled in what the files say.
SELECT 1;
