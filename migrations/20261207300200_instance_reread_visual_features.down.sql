-- Nothing to undo: the backfill only records what the files say.
SELECT 1;
