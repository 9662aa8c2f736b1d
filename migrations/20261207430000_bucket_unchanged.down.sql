DROP FUNCTION IF EXISTS bucket_unchanged(bigint, xid);
