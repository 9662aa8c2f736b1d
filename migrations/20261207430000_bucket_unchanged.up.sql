-- bucket_unchanged locks bucket id for the rest of the transaction and fails
-- with serialization_failure (40001) unless its row is still the version the
-- caller read (seen: that version's xmin). A patient sign-in reads the bucket
-- without a lock, decides in Go, and sends this check with its writes as one
-- message (one implicit transaction): the writes apply to the row they were
-- decided on, or not at all (shared/buckets/signin.go).
CREATE FUNCTION bucket_unchanged(bucket_id bigint, seen xid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM buckets WHERE id = bucket_id AND xmin = seen FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bucket % changed since it was read', bucket_id
            USING ERRCODE = 'serialization_failure';
    END IF;
END
$$;
