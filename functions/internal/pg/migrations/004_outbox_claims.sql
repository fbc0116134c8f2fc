-- A sender claims an outbox row until lease_until in one short statement,
-- sends it with no transaction open, then marks it sent (or records the
-- error) in another. A row whose claim ran out (its sender died mid-send)
-- can be claimed again; a live claim keeps other senders off the row.
ALTER TABLE outbox ADD COLUMN lease_until timestamptz;
