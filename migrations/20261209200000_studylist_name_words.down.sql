DROP INDEX IF EXISTS studies_search_names;

--bun:split

DROP TRIGGER IF EXISTS studies_search_words_update ON studies;

--bun:split

DROP TRIGGER IF EXISTS studies_search_words_insert ON studies;

--bun:split

DROP FUNCTION IF EXISTS studies_search_words();

--bun:split

DROP TABLE IF EXISTS search_words;

--bun:split

DROP FUNCTION IF EXISTS rp_search_parts(text);

--bun:split

DROP FUNCTION IF EXISTS rp_search_names(text);
