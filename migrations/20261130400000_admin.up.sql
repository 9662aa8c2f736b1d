-- Issue 8, administration: forced password change, department settings for
-- the letter header and the OTP sender, and indexes for the label filter and
-- the audit trail page.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

--bun:split

-- sms_prefixes: country calling codes an SMS may go to (digits, no "+").
-- sms_sender: Vonage's "from": up to 11 letters/digits, or a number (empty:
-- the server's default). verifications: what staff may choose when printing.
ALTER TABLE departments
    ADD COLUMN sms_prefixes  text[] NOT NULL DEFAULT '{31,32,33,49,352}'
        CHECK (cardinality(sms_prefixes) <= 50 AND array_to_string(sms_prefixes, ',') ~ '^([1-9][0-9]{0,2}(,[1-9][0-9]{0,2})*)?$'),
    ADD COLUMN sms_sender    text NOT NULL DEFAULT ''
        CHECK (sms_sender ~ '^([A-Za-z0-9]{1,11}|[0-9]{1,15})?$'),
    ADD COLUMN verifications text[] NOT NULL DEFAULT '{sms,email,dob}'
        CHECK (cardinality(verifications) >= 1 AND verifications <@ ARRAY['sms','email','dob']);

--bun:split

-- The letter-header logo, re-encoded as PNG by the settings page. Kept apart
-- from departments so loading a department (every request) stays small.
CREATE TABLE department_logos (
    department_id  bigint PRIMARY KEY REFERENCES departments(id) ON DELETE CASCADE,
    png            bytea NOT NULL CHECK (length(png) BETWEEN 8 AND 4194304),
    width          int NOT NULL CHECK (width > 0),
    height         int NOT NULL CHECK (height > 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- "Contains labels": the studies carrying a label, index-only.
CREATE INDEX study_labels_label ON study_labels (label_id) INCLUDE (study_id, user_id, group_id);

--bun:split

CREATE INDEX group_members_user ON group_members (user_id);

--bun:split

-- The audit trail page: keyset pages newest first, per department or all,
-- and searches inside details (study_id, studies, patient_id).
CREATE INDEX audit_events_at_id ON audit_events (at DESC, id DESC);

--bun:split

CREATE INDEX audit_events_dept_at_id ON audit_events (department_id, at DESC, id DESC);

--bun:split

CREATE INDEX audit_events_details ON audit_events USING gin (details jsonb_path_ops);
