-- The social core: friend requests, friendships, pictures and posts.

CREATE TABLE friend_requests (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_user  uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    to_user    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status     text NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (from_user <> to_user)
);
-- At most one pending request per unordered pair: the guard behind the race
-- of two people requesting each other at the same moment.
CREATE UNIQUE INDEX friend_requests_one_pending
    ON friend_requests (LEAST(from_user, to_user), GREATEST(from_user, to_user))
    WHERE status = 'pending';
-- "My incoming / outgoing requests".
CREATE INDEX friend_requests_pending_to ON friend_requests (to_user, created_at DESC) WHERE status = 'pending';
CREATE INDEX friend_requests_pending_from ON friend_requests (from_user, created_at DESC) WHERE status = 'pending';

-- Two rows per friendship, one per direction, so "my friends" is one index
-- range on the primary key.
CREATE TABLE friendships (
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    friend_id  uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, friend_id),
    CHECK (user_id <> friend_id)
);

-- Pictures: the bytes are in the object store under object_key.
CREATE TABLE files (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    object_key   text NOT NULL UNIQUE,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_owner ON files (owner_id);

CREATE TABLE posts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id  uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    text       text NOT NULL,
    file_id    uuid REFERENCES files(id),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- One author's posts newest first; the feed reads one short range of it per
-- friend and merges them (keyset paging on created_at, id).
CREATE INDEX posts_author_created ON posts (author_id, created_at DESC, id DESC);
CREATE INDEX posts_file ON posts (file_id) WHERE file_id IS NOT NULL;

-- User search by name or email prefix, case-insensitive.
CREATE INDEX users_name_prefix ON users (lower(name) text_pattern_ops);
CREATE INDEX users_email_prefix ON users (email_lower text_pattern_ops);
