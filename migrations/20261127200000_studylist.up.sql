-- Study list search. studies.search holds the folded (lower, unaccented)
-- patient name, patient ID and accession number, so one trigram index answers
-- "muller" for Müller, a partial patient ID and an accession number alike,
-- without joining patients for every candidate row.
ALTER TABLE studies ADD COLUMN search text NOT NULL DEFAULT '';

--bun:split

-- Filled from the patient row. A bulk load may bring its own value (computed
-- with rp_fold too); an UPDATE always recomputes.
CREATE FUNCTION studies_search_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.search <> '' THEN
        RETURN NEW;
    END IF;
    SELECT rp_fold(p.family_name || ' ' || p.given_name || ' ' || p.middle_name || ' ' || p.patient_id)
           || ' ' || rp_fold(NEW.accession)
      INTO NEW.search
      FROM patients p WHERE p.id = NEW.patient_id;
    NEW.search := coalesce(NEW.search, '');
    RETURN NEW;
END $$;

--bun:split

CREATE TRIGGER studies_search_fill
    BEFORE INSERT OR UPDATE OF patient_id, accession, search ON studies
    FOR EACH ROW EXECUTE FUNCTION studies_search_fill();

--bun:split

-- A renamed patient (or corrected patient ID) is found under the new name.
CREATE FUNCTION patients_search_refresh() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE studies SET search = '' WHERE patient_id = NEW.id;
    RETURN NULL;
END $$;

--bun:split

CREATE TRIGGER patients_search_refresh
    AFTER UPDATE OF family_name, given_name, middle_name, patient_id ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_search_refresh();

--bun:split

UPDATE studies SET search = '';

--bun:split

CREATE INDEX studies_search_trgm ON studies USING gin (search gin_trgm_ops);

--bun:split

-- Newest first with keyset pagination: a study without a date sorts last
-- ('-infinity'), and (sort date, id) is a total order the cursor can carry.
CREATE INDEX studies_dept_sort ON studies (department_id, (coalesce(study_date, '-infinity'::date)) DESC, id DESC);

--bun:split

CREATE INDEX studies_sort ON studies ((coalesce(study_date, '-infinity'::date)) DESC, id DESC);

--bun:split

-- Exact patient ID and accession look-ups take these before any trigram work.
CREATE INDEX studies_accession ON studies (accession);

--bun:split

CREATE INDEX patients_patient_id ON patients (patient_id);
