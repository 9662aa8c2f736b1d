DROP INDEX IF EXISTS instances_burned_in_unread;

--bun:split

ALTER TABLE instances DROP COLUMN IF EXISTS burned_in;
