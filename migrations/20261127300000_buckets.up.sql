-- A bucket is what one printed reference number opens: studies of one
-- patient, how the patient proves who they are, what they may see, until when.
-- The reference number itself is never stored: only its HMAC under the server key.
CREATE TABLE buckets (
    id             bigserial PRIMARY KEY,
    ref_hash       bytea NOT NULL UNIQUE CHECK (length(ref_hash) = 32),
    department_id  bigint NOT NULL REFERENCES departments(id),
    patient_id     bigint NOT NULL REFERENCES patients(id),
    verification   text NOT NULL CHECK (verification IN ('sms','email','dob')),
    -- E.164 phone for sms, e-mail address for email, empty for dob
    destination    text NOT NULL DEFAULT '' CHECK (length(destination) <= 254),
    scope          text NOT NULL CHECK (scope IN ('images','images_report')),
    valid_until    date NOT NULL,
    reason         text NOT NULL CHECK (length(reason) BETWEEN 3 AND 500),
    language       text NOT NULL CHECK (language IN ('en','nl','fr','de')),
    anonymized     boolean NOT NULL DEFAULT false,
    anon_number    text NOT NULL DEFAULT '',
    message        text NOT NULL DEFAULT '' CHECK (length(message) <= 1000),
    created_by     bigint NOT NULL REFERENCES users(id),
    state          text NOT NULL DEFAULT 'active' CHECK (state IN ('active','blocked','revoked','expired')),
    failures       int NOT NULL DEFAULT 0 CHECK (failures >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((verification = 'dob') = (destination = '')),
    CHECK (anonymized = (anon_number ~ '^[0-9]{6}$'))
);
CREATE INDEX buckets_department ON buckets (department_id, created_at DESC);
CREATE INDEX buckets_patient ON buckets (patient_id);

CREATE TABLE bucket_studies (
    bucket_id  bigint NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
    study_id   bigint NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    PRIMARY KEY (bucket_id, study_id)
);
CREATE INDEX bucket_studies_study ON bucket_studies (study_id);

-- What the print form preselects next time for this user (the seed's
-- "same values ... selected automatically for the next printing").
CREATE TABLE user_print_prefs (
    user_id       bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    verification  text NOT NULL DEFAULT 'dob' CHECK (verification IN ('sms','email','dob')),
    sms_region    text NOT NULL DEFAULT '' CHECK (sms_region ~ '^([A-Z]{2})?$'),
    language      text NOT NULL DEFAULT '' CHECK (language IN ('','en','nl','fr','de')),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
