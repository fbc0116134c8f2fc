-- Notifications, stored once per (recipient, kind, cause) by notify and
-- served by inbox. The cause is the event that caused the notification, so
-- a redelivered or replayed event stores nothing new.

CREATE TABLE notifications (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    recipient_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         text NOT NULL,
    actor_id     uuid NOT NULL,
    actor_name   text NOT NULL,
    post_id      uuid,
    cause_source text NOT NULL,
    cause_id     text NOT NULL,
    read_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (recipient_id, kind, cause_source, cause_id)
);

-- The inbox list: keyset paging on (created_at DESC, id DESC) per recipient.
CREATE INDEX notifications_recipient ON notifications (recipient_id, created_at DESC, id DESC);

-- The unread badge counts only unread rows.
CREATE INDEX notifications_unread ON notifications (recipient_id) WHERE read_at IS NULL;
