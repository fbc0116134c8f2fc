// Package session keeps login sessions in Redis. The browser holds a random
// 256-bit token in an HttpOnly cookie; Redis holds only its SHA-256, so a
// leaked Redis dump cannot be replayed as a login.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNoSession means the token is unknown, expired or logged out.
var ErrNoSession = errors.New("session: no such session")

// Store creates, checks and deletes sessions.
type Store struct {
	rdb *redis.Client
	// Idle ends a session nobody used for this long; Absolute ends every
	// session this long after login, used or not (OWASP session guidance).
	Idle, Absolute time.Duration
	// Secure marks the cookie Secure: the site is served over HTTPS. It
	// comes from the public URL, never from Host, which the cluster's
	// HTTPRoute rewrites.
	Secure bool
	// MaxPerUser bounds one account's live sessions: a new login beyond it
	// ends the oldest, so stolen or forgotten sessions do not pile up.
	MaxPerUser int
	now        func() time.Time
}

// NewStore returns a store with 30-minute idle and 7-day absolute timeouts
// and at most 20 sessions per account.
func NewStore(rdb *redis.Client) *Store {
	return &Store{rdb: rdb, Idle: 30 * time.Minute, Absolute: 7 * 24 * time.Hour, MaxPerUser: 20, now: time.Now}
}

// Session is what a valid token stands for.
type Session struct {
	UserID    string
	CreatedAt time.Time
}

func key(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "session:" + hex.EncodeToString(sum[:])
}

// Each account's sessions are indexed in a sorted set of their keys, scored
// by creation time, so the oldest can be ended and all of them found for
// "log out everywhere". The scripts below keep the index and the sessions
// in step atomically. They touch session keys named in the index, not in
// KEYS, which a single Redis (ours) allows and Redis Cluster would not.
const indexPrefix = "sessions-of:"

func indexKey(userID string) string { return indexPrefix + userID }

// endedPrefix names the channels on which the end of a user's sessions is
// published, so a long-lived connection riding on one (the inbox stream)
// closes at once instead of at its next check.
const endedPrefix = "session-ended:"

// EndedChannel is the Redis channel announcing the end of userID's
// sessions. Each message is the ID of the session that ended, or AllEnded.
func EndedChannel(userID string) string { return endedPrefix + userID }

// EndedUser returns the user of an EndedChannel name.
func EndedUser(channel string) (string, bool) { return strings.CutPrefix(channel, endedPrefix) }

// AllEnded is the EndedChannel message for "every session of the user".
const AllEnded = "*"

// ID names the session of token in EndedChannel messages: the hash Redis
// keys it by, never the token itself.
func ID(token string) string { return key(token) }

// createScript stores a session, indexes it, drops index entries whose
// session expired, and ends the oldest sessions beyond the bound.
// KEYS: session, index. ARGV: user, created (s), score (ms), idle (s),
// absolute (s), max, ended channel.
var createScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'user', ARGV[1], 'created', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
redis.call('EXPIRE', KEYS[2], ARGV[5])
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', m) == 0 then redis.call('ZREM', KEYS[2], m) end
end
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if over > 0 then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    redis.call('DEL', m)
    redis.call('ZREM', KEYS[2], m)
    redis.call('PUBLISH', ARGV[7], m)
  end
end
return over`)

// deleteScript ends one session and removes it from its account's index.
// KEYS: session. ARGV: the index prefix, the ended-channel prefix.
var deleteScript = redis.NewScript(`
local u = redis.call('HGET', KEYS[1], 'user')
redis.call('DEL', KEYS[1])
if u then
  redis.call('ZREM', ARGV[1] .. u, KEYS[1])
  redis.call('PUBLISH', ARGV[2] .. u, KEYS[1])
end
return 0`)

// deleteAllScript ends every session of an account. KEYS: index. ARGV:
// the ended channel, AllEnded.
var deleteAllScript = redis.NewScript(`
local ms = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(ms) do redis.call('DEL', m) end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return #ms`)

// Create starts a session for userID and returns its new token.
func (s *Store) Create(ctx context.Context, userID string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	err := createScript.Run(ctx, s.rdb, []string{key(token), indexKey(userID)},
		userID, now.Unix(), now.UnixMilli(), int64(s.Idle.Seconds()), int64(s.Absolute.Seconds()), s.MaxPerUser, EndedChannel(userID)).Err()
	if err != nil {
		return "", fmt.Errorf("session create: %w", err)
	}
	return token, nil
}

// Get returns the session for token and slides its idle timeout, never past
// the absolute one.
func (s *Store) Get(ctx context.Context, token string) (Session, error) {
	sess, left, err := s.lookup(ctx, token)
	if err != nil {
		return Session{}, err
	}
	if err := s.rdb.Expire(ctx, key(token), min(s.Idle, left)).Err(); err != nil {
		return Session{}, fmt.Errorf("session refresh: %w", err)
	}
	return sess, nil
}

// Check returns the session for token without sliding its idle timeout:
// for a long-lived connection that must end with its session, but is not
// itself a use of it.
func (s *Store) Check(ctx context.Context, token string) (Session, error) {
	sess, _, err := s.lookup(ctx, token)
	return sess, err
}

// lookup returns the session for token and how long it has left before its
// absolute timeout.
func (s *Store) lookup(ctx context.Context, token string) (Session, time.Duration, error) {
	if token == "" {
		return Session{}, 0, ErrNoSession
	}
	k := key(token)
	vals, err := s.rdb.HGetAll(ctx, k).Result()
	if err != nil {
		return Session{}, 0, fmt.Errorf("session get: %w", err)
	}
	user, created := vals["user"], vals["created"]
	secs, perr := strconv.ParseInt(created, 10, 64)
	if user == "" || perr != nil {
		return Session{}, 0, ErrNoSession
	}
	sess := Session{UserID: user, CreatedAt: time.Unix(secs, 0)}
	left := sess.CreatedAt.Add(s.Absolute).Sub(s.now())
	if left <= 0 {
		s.Delete(ctx, token) //nolint:errcheck // it is expired either way
		return Session{}, 0, ErrNoSession
	}
	return sess, left, nil
}

// Delete ends the session for token; deleting an unknown one is no error.
func (s *Store) Delete(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := deleteScript.Run(ctx, s.rdb, []string{key(token)}, indexPrefix, endedPrefix).Err(); err != nil {
		return fmt.Errorf("session delete: %w", err)
	}
	return nil
}

// DeleteAll ends every session of userID ("log out everywhere") and
// reports how many there were.
func (s *Store) DeleteAll(ctx context.Context, userID string) (int, error) {
	n, err := deleteAllScript.Run(ctx, s.rdb, []string{indexKey(userID)}, EndedChannel(userID), AllEnded).Int()
	if err != nil {
		return 0, fmt.Errorf("session delete all: %w", err)
	}
	return n, nil
}

// Exists reports whether token's session is present in Redis (for tests and
// tools; it does not slide the timeout).
func (s *Store) Exists(ctx context.Context, token string) (bool, error) {
	n, err := s.rdb.Exists(ctx, key(token)).Result()
	return n == 1, err
}
