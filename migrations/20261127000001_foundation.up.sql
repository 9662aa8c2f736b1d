CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

--bun:split

-- unaccent() is only STABLE; an IMMUTABLE wrapper with the dictionary named
-- lets us index folded patient names for accent- and case-insensitive search.
CREATE FUNCTION rp_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

--bun:split

CREATE TABLE departments (
    id                     bigserial PRIMARY KEY,
    code                   text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9_-]{2,32}$'),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address                text NOT NULL DEFAULT '',
    phone                  text NOT NULL DEFAULT '',
    email                  text NOT NULL DEFAULT '',
    contact                text NOT NULL DEFAULT '',
    default_validity_n     int  NOT NULL DEFAULT 1 CHECK (default_validity_n BETWEEN 1 AND 3650),
    default_validity_unit  text NOT NULL DEFAULT 'month' CHECK (default_validity_unit IN ('day','week','month','year')),
    max_validity_n         int  CHECK (max_validity_n BETWEEN 1 AND 3650),
    max_validity_unit      text CHECK (max_validity_unit IN ('day','week','month','year')),
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((max_validity_n IS NULL) = (max_validity_unit IS NULL))
);

CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    department_id   bigint REFERENCES departments(id),
    username        text NOT NULL CHECK (username ~ '^[a-z0-9._@-]{2,64}$'),
    display_name    text NOT NULL DEFAULT '',
    email           text NOT NULL DEFAULT '',
    role            text NOT NULL CHECK (role IN ('staff','admin','servicedesk')),
    language        text NOT NULL DEFAULT '' CHECK (language IN ('','en','nl','fr','de')),
    password_hash   text NOT NULL,
    disabled        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- staff and admins belong to one department; the service desk spans all
    CHECK ((role = 'servicedesk') = (department_id IS NULL))
);
CREATE UNIQUE INDEX users_username_key ON users (username);

CREATE TABLE groups (
    id             bigserial PRIMARY KEY,
    department_id  bigint NOT NULL REFERENCES departments(id),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    UNIQUE (department_id, name)
);

CREATE TABLE group_members (
    group_id  bigint NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE patients (
    id             bigserial PRIMARY KEY,
    department_id  bigint NOT NULL REFERENCES departments(id),
    patient_id     text NOT NULL,
    family_name    text NOT NULL DEFAULT '',
    given_name     text NOT NULL DEFAULT '',
    middle_name    text NOT NULL DEFAULT '',
    name_prefix    text NOT NULL DEFAULT '',
    name_suffix    text NOT NULL DEFAULT '',
    birth_date     date,
    sex            text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (department_id, patient_id)
);

CREATE TABLE studies (
    id                   bigserial PRIMARY KEY,
    department_id        bigint NOT NULL REFERENCES departments(id),
    patient_id           bigint NOT NULL REFERENCES patients(id),
    study_uid            text NOT NULL UNIQUE,
    study_date           date,
    study_time           text NOT NULL DEFAULT '',
    accession            text NOT NULL DEFAULT '',
    description          text NOT NULL DEFAULT '',
    modalities           text[] NOT NULL DEFAULT '{}',
    referring_physician  text NOT NULL DEFAULT '',
    num_series           int NOT NULL DEFAULT 0,
    num_instances        int NOT NULL DEFAULT 0,
    report_text          text NOT NULL DEFAULT '',
    report_pdf_key       text NOT NULL DEFAULT '',
    report_status        text NOT NULL DEFAULT 'none' CHECK (report_status IN ('none','preliminary','final')),
    report_available_at  timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX studies_department_date ON studies (department_id, study_date DESC NULLS LAST, id DESC);
CREATE INDEX studies_patient ON studies (patient_id);

CREATE TABLE series (
    id             bigserial PRIMARY KEY,
    study_id       bigint NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    series_uid     text NOT NULL UNIQUE,
    modality       text NOT NULL DEFAULT '',
    number         int,
    description    text NOT NULL DEFAULT '',
    body_part      text NOT NULL DEFAULT '',
    num_instances  int NOT NULL DEFAULT 0
);
CREATE INDEX series_study ON series (study_id);

CREATE TABLE instances (
    id               bigserial PRIMARY KEY,
    series_id        bigint NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    sop_uid          text NOT NULL UNIQUE,
    sop_class_uid    text NOT NULL DEFAULT '',
    number           int,
    rows             int NOT NULL DEFAULT 0,
    columns          int NOT NULL DEFAULT 0,
    frames           int NOT NULL DEFAULT 1,
    transfer_syntax  text NOT NULL DEFAULT '',
    bits_allocated   int NOT NULL DEFAULT 0,
    bits_stored      int NOT NULL DEFAULT 0,
    photometric      text NOT NULL DEFAULT '',
    window_center    text NOT NULL DEFAULT '',
    window_width     text NOT NULL DEFAULT '',
    storage_key      text NOT NULL,
    size_bytes       bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instances_series ON instances (series_id, number);

CREATE TABLE labels (
    id             bigserial PRIMARY KEY,
    department_id  bigint NOT NULL REFERENCES departments(id),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    color          text NOT NULL DEFAULT '#5b7db1' CHECK (color ~ '^#[0-9a-f]{6}$'),
    UNIQUE (department_id, name)
);

-- A label put on a study for one user or one group.
CREATE TABLE study_labels (
    id          bigserial PRIMARY KEY,
    study_id    bigint NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    label_id    bigint NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    user_id     bigint REFERENCES users(id) ON DELETE CASCADE,
    group_id    bigint REFERENCES groups(id) ON DELETE CASCADE,
    created_by  bigint REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE INDEX study_labels_study ON study_labels (study_id);

-- Server-side sessions (staff and patient). The id in the cookie is random;
-- only its HMAC is stored, so a dump of this table opens no session.
CREATE TABLE sessions (
    id_hash       bytea PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('staff','patient')),
    data          bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failure counters for sign-in throttling, keyed per account name (known or
-- not, so the answer never reveals whether an account exists).
CREATE TABLE throttle (
    key          text PRIMARY KEY,
    failures     int NOT NULL DEFAULT 0,
    window_start timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz
);

-- Append-only audit trail.
CREATE TABLE audit_events (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    action         text NOT NULL,
    outcome        text NOT NULL DEFAULT 'ok',
    actor_kind     text NOT NULL DEFAULT 'system' CHECK (actor_kind IN ('staff','patient','system','api')),
    actor_id       bigint,
    actor_name     text NOT NULL DEFAULT '',
    department_id  bigint,
    bucket_id      bigint,
    ip             text NOT NULL DEFAULT '',
    details        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at DESC);
CREATE INDEX audit_events_bucket ON audit_events (bucket_id) WHERE bucket_id IS NOT NULL;

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
