-- The dev outbox: in dev mode without Vonage or SMTP configured, SMS and
-- e-mails (one-time passwords included) are stored here instead of sent, so
-- that every server instance shows them at /dev/outbox. Never written outside
-- dev mode.
CREATE TABLE dev_outbox (
    id          bigserial PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    channel     text NOT NULL CHECK (channel IN ('sms','email')),
    destination text NOT NULL CHECK (length(destination) <= 320),
    subject     text NOT NULL DEFAULT '' CHECK (length(subject) <= 1000),
    body_text   text NOT NULL CHECK (length(body_text) <= 100000),
    body_html   text NOT NULL DEFAULT '' CHECK (length(body_html) <= 200000)
);
CREATE INDEX dev_outbox_recent ON dev_outbox (created_at DESC, id DESC);
