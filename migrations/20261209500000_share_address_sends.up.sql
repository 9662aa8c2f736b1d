-- Codes sent to a doctor's address or number, for the per-address cap
-- across all shares and accesses (buckets.MaxShareCodesPerAddressDay).
-- The address is kept only as its keyed hash; the rows have no link to a
-- share or bucket, so removing a bucket does not reset an address's count.
CREATE TABLE share_address_sends (
    id        bigserial PRIMARY KEY,
    addr_hash bytea NOT NULL CHECK (length(addr_hash) = 32),
    at        timestamptz NOT NULL DEFAULT now(),
    outcome   text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending','sent','failed'))
);
CREATE INDEX share_address_sends_addr ON share_address_sends (addr_hash, at DESC);
