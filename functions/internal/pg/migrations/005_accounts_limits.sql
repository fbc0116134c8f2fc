-- Search finds people by name, never by a part of their email: the email
-- prefix index served a search that let anyone read addresses letter by
-- letter. A name matches when every word of the query starts a word of it
-- ("arch" finds "Ann Archer"): a full-text index of the name's words, with
-- the 'simple' configuration (no stemming, no stop words: names are not
-- prose). A whole address still finds its owner, through the unique index on
-- email_lower.
DROP INDEX IF EXISTS users_email_prefix;
DROP INDEX IF EXISTS users_name_prefix;
CREATE INDEX users_name_words ON users USING GIN (to_tsvector('simple', name));

-- The cool-down after a cancelled or declined request: when did this
-- requester last have a request to this person closed.
CREATE INDEX friend_requests_closed ON friend_requests (from_user, to_user, updated_at DESC)
    WHERE status IN ('cancelled', 'declined');
