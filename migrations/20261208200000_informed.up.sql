-- Issue 17: "Who opened my images" (activity, new-device alert) and "A
-- message when the result is ready" (docs/notifications.md).

-- A job queue every instance works on: a worker claims one due job with
-- FOR UPDATE SKIP LOCKED inside its transaction; key makes an enqueue
-- idempotent (ON CONFLICT), so one event is one job.
CREATE TABLE jobs (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,
    key         text NOT NULL UNIQUE,
    payload     jsonb NOT NULL DEFAULT '{}',
    run_at      timestamptz NOT NULL DEFAULT now(),
    attempts    int NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT '',
    done_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE done_at IS NULL;
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;

-- What was chosen for one access at print time (or later by the patient):
-- the message when a result is ready, the alert on a new device, and for a
-- date-of-birth-only access the contact staff entered for them.
CREATE TABLE bucket_notices (
    bucket_id        bigint PRIMARY KEY REFERENCES buckets(id) ON DELETE CASCADE,
    ready_notice     boolean NOT NULL DEFAULT false,
    device_alert     boolean NOT NULL DEFAULT false,
    contact_channel  text NOT NULL DEFAULT '' CHECK (contact_channel IN ('', 'sms', 'email')),
    contact          text NOT NULL DEFAULT '' CHECK (length(contact) <= 254)
);

-- Sticky print choices of one staff user.
CREATE TABLE notice_prefs (
    user_id       bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    ready_notice  boolean NOT NULL,
    device_alert  boolean NOT NULL
);

-- The department's default for "Tell the patient when the report is available".
CREATE TABLE department_notice_settings (
    department_id         bigint PRIMARY KEY REFERENCES departments(id) ON DELETE CASCADE,
    ready_notice_default  boolean NOT NULL DEFAULT false
);

-- The coarse devices (class|os|browser, never the User-Agent) an access was
-- signed in to from.
CREATE TABLE access_devices (
    bucket_id   bigint NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
    device      text NOT NULL CHECK (length(device) <= 64),
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bucket_id, device)
);

-- The device of a sign-in's audit row (audit_events is append-only and was
-- written before the device was known to it).
CREATE TABLE signin_devices (
    event_id   bigint PRIMARY KEY,
    bucket_id  bigint NOT NULL,
    device     text NOT NULL CHECK (length(device) <= 64)
);

-- Every message sent: one row per access and event, so an event is told at
-- most once whatever the number of workers; the settings page counts them.
CREATE TABLE notices_sent (
    id             bigserial PRIMARY KEY,
    bucket_id      bigint NOT NULL REFERENCES buckets(id) ON DELETE CASCADE,
    department_id  bigint NOT NULL,
    event          text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('report', 'images', 'device')),
    channel        text NOT NULL CHECK (channel IN ('sms', 'email')),
    sent_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bucket_id, event)
);
CREATE INDEX notices_sent_month ON notices_sent (department_id, sent_at);

-- A study whose images arrive (none before) or whose final report arrives or
-- changes queues one job, run at the report's embargo time, when an access
-- holding it asked for the message. Every writer (STOW-RS, import, the
-- report API, the CLI) passes here; a per-instance count is not a change.
CREATE FUNCTION informed_study_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM bucket_studies bs JOIN bucket_notices n ON n.bucket_id = bs.bucket_id
                   WHERE bs.study_id = NEW.id AND n.ready_notice) THEN
        RETURN NULL;
    END IF;
    IF OLD.num_instances = 0 AND NEW.num_instances > 0 THEN
        INSERT INTO jobs (kind, key, payload)
        VALUES ('ready.study', 'images:' || NEW.id, jsonb_build_object('study_id', NEW.id, 'event', 'images'))
        ON CONFLICT (key) DO NOTHING;
    END IF;
    IF NEW.report_status = 'final' AND (NEW.report_text <> '' OR NEW.report_pdf_key <> '') AND
       (OLD.report_status IS DISTINCT FROM NEW.report_status
        OR OLD.report_available_at IS DISTINCT FROM NEW.report_available_at
        OR OLD.report_text IS DISTINCT FROM NEW.report_text
        OR OLD.report_pdf_key IS DISTINCT FROM NEW.report_pdf_key) THEN
        INSERT INTO jobs (kind, key, payload, run_at)
        VALUES ('ready.study', 'report:' || NEW.id, jsonb_build_object('study_id', NEW.id, 'event', 'report'),
                coalesce(NEW.report_available_at, now()))
        ON CONFLICT (key) DO UPDATE SET run_at = EXCLUDED.run_at, done_at = NULL, attempts = 0, last_error = '';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER studies_informed AFTER UPDATE OF num_instances, report_status, report_text, report_pdf_key, report_available_at
    ON studies FOR EACH ROW
    WHEN ((OLD.num_instances = 0 AND NEW.num_instances > 0)
          OR OLD.report_status IS DISTINCT FROM NEW.report_status
          OR OLD.report_available_at IS DISTINCT FROM NEW.report_available_at
          OR OLD.report_text IS DISTINCT FROM NEW.report_text
          OR OLD.report_pdf_key IS DISTINCT FROM NEW.report_pdf_key)
    EXECUTE FUNCTION informed_study_changed();
