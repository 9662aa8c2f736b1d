-- Study list: whole-word name search without the trigram index.
-- At 10 million studies every trigram of a family name is in hundreds of
-- thousands of studies, and the trigram index decodes all those posting lists
-- to find a name's few hundred studies ("claossens": 1,149 index pages, 20-30
-- ms on a quiet machine). A word index finds them in one or two pages: the
-- words of studies.search are indexed whole, and search_words lists every word
-- there is, so the words containing what was typed are found first (a small
-- trigram index on a small table), then the studies having one of them.
-- That is exactly "search LIKE '%typed%'" when what was typed has no digit
-- and no space and is not part of a word with a digit (a patient ID or
-- accession): search_words records the digit-free parts of such words with
-- in_id, and the query falls back to the trigram index when one matches.

-- The words of a search text without a digit (what studies_search_names
-- indexes).
CREATE FUNCTION rp_search_names(text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT ARRAY(SELECT w FROM unnest(string_to_array($1, ' ')) AS w WHERE w <> '' AND w !~ '[0-9]') $$;

--bun:split

-- The words of a search text without a digit (in_id false) and the parts
-- between the digits of the words with one (in_id true). Not STRICT, so that
-- PostgreSQL can inline it into a query over many rows.
CREATE FUNCTION rp_search_parts(text) RETURNS TABLE (part text, in_id boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT w, false FROM unnest(string_to_array($1, ' ')) AS w WHERE w <> '' AND w !~ '[0-9]'
    UNION ALL
    SELECT p, true FROM unnest(string_to_array($1, ' ')) AS w, regexp_split_to_table(w, '[0-9]+') AS p
     WHERE w ~ '[0-9]' AND p <> ''
$$;

--bun:split

-- Every part of every studies.search there is (and some there was: a word
-- left over after a rename finds no study, which is harmless).
CREATE TABLE search_words (
    word  text PRIMARY KEY,
    in_id boolean NOT NULL DEFAULT false
);

--bun:split

INSERT INTO search_words (word, in_id)
SELECT r.part, bool_or(r.in_id) FROM studies AS s, rp_search_parts(s.search) AS r GROUP BY r.part;

--bun:split

CREATE INDEX search_words_trgm ON search_words USING gin (word gin_trgm_ops);

--bun:split

-- Kept by the studies it comes from. ON CONFLICT DO NOTHING takes no lock on
-- an existing word, so imports of the same name do not wait for each other;
-- the UPDATE touches a word only the first time it is seen in an ID, and
-- finds it through the primary key (an IN (subquery) read the whole table
-- for every study: 2 ms each at 11,000 words). A word new to the table
-- makes a second transaction adding it wait for the first to commit: both
-- add their words in the same (sorted) order, so two imports never wait for
-- each other crosswise (a deadlock).
CREATE FUNCTION studies_search_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word, in_id)
    SELECT r.part, bool_or(r.in_id) FROM rp_search_parts(NEW.search) AS r GROUP BY r.part ORDER BY r.part
    ON CONFLICT (word) DO NOTHING;
    UPDATE search_words AS w SET in_id = true
     WHERE w.word = ANY (ARRAY(SELECT r.part FROM rp_search_parts(NEW.search) AS r WHERE r.in_id)) AND NOT w.in_id;
    RETURN NULL;
END $$;

--bun:split

CREATE TRIGGER studies_search_words_insert AFTER INSERT ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_search_words();

--bun:split

CREATE TRIGGER studies_search_words_update AFTER UPDATE ON studies
    FOR EACH ROW WHEN (OLD.search IS DISTINCT FROM NEW.search) EXECUTE FUNCTION studies_search_words();

--bun:split

CREATE INDEX studies_search_names ON studies USING gin (rp_search_names(search));

--bun:split

-- The planner estimates "rp_search_names(search) && ARRAY[...]" from the
-- index expression's statistics, which ANALYZE gathers.
ANALYZE search_words;

--bun:split

ANALYZE studies;
