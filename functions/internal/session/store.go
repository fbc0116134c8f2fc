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
	now    func() time.Time
}

// NewStore returns a store with 30-minute idle and 7-day absolute timeouts.
func NewStore(rdb *redis.Client) *Store {
	return &Store{rdb: rdb, Idle: 30 * time.Minute, Absolute: 7 * 24 * time.Hour, now: time.Now}
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

// Create starts a session for userID and returns its new token.
func (s *Store) Create(ctx context.Context, userID string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	k := key(token)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, "user", userID, "created", strconv.FormatInt(s.now().Unix(), 10))
		p.Expire(ctx, k, s.Idle)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("session create: %w", err)
	}
	return token, nil
}

// Get returns the session for token and slides its idle timeout, never past
// the absolute one.
func (s *Store) Get(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, ErrNoSession
	}
	k := key(token)
	vals, err := s.rdb.HGetAll(ctx, k).Result()
	if err != nil {
		return Session{}, fmt.Errorf("session get: %w", err)
	}
	user, created := vals["user"], vals["created"]
	secs, perr := strconv.ParseInt(created, 10, 64)
	if user == "" || perr != nil {
		return Session{}, ErrNoSession
	}
	sess := Session{UserID: user, CreatedAt: time.Unix(secs, 0)}
	left := sess.CreatedAt.Add(s.Absolute).Sub(s.now())
	if left <= 0 {
		s.rdb.Del(ctx, k)
		return Session{}, ErrNoSession
	}
	if err := s.rdb.Expire(ctx, k, min(s.Idle, left)).Err(); err != nil {
		return Session{}, fmt.Errorf("session refresh: %w", err)
	}
	return sess, nil
}

// Delete ends the session for token; deleting an unknown one is no error.
func (s *Store) Delete(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := s.rdb.Del(ctx, key(token)).Err(); err != nil {
		return fmt.Errorf("session delete: %w", err)
	}
	return nil
}

// Exists reports whether token's session is present in Redis (for tests and
// tools; it does not slide the timeout).
func (s *Store) Exists(ctx context.Context, token string) (bool, error) {
	n, err := s.rdb.Exists(ctx, key(token)).Result()
	return n == 1, err
}
