-- viewer_link_budget: the request budget of each viewer link (a token
-- bucket), shared by every server instance. Instances take it in slices
-- (dicomweb.Reader.allow): one upsert per slice, not per request. granted
-- is what the last claim got (the upsert returns it).
CREATE TABLE viewer_link_budget (
    link_id bigint PRIMARY KEY REFERENCES viewer_links (id) ON DELETE CASCADE,
    tokens  double precision NOT NULL,
    granted double precision NOT NULL DEFAULT 0,
    at      timestamptz NOT NULL DEFAULT now()
);
