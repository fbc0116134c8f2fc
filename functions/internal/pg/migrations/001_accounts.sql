-- Accounts, the transactional outbox and the consumers' dedup ledger.

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL,
    email_lower   text GENERATED ALWAYS AS (lower(email)) STORED,
    name          text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lower_key UNIQUE (email_lower)
);

-- Events waiting to be sent to their sink (a KafkaSink). A row is written in
-- the same transaction as the change it announces; sent_at is set once the
-- sink accepted it. The relay resends rows left unsent.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_source text NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    sink         text NOT NULL,
    event        bytea NOT NULL, -- the structured-mode JSON, byte for byte
    created_at   timestamptz NOT NULL DEFAULT now(),
    attempts     int NOT NULL DEFAULT 0,
    last_error   text,
    sent_at      timestamptz,
    UNIQUE (event_source, event_id)
);
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;

-- One row per event a consumer has applied, written in the same transaction
-- as the effect: a redelivery finds its row and changes nothing.
CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_source text NOT NULL,
    event_id     text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_source, event_id)
);
