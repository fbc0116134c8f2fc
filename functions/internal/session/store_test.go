package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/infra/testenv"
)

func newStore(t *testing.T) (*Store, *redis.Client) {
	opts, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return NewStore(rdb), rdb
}

func TestRedisHoldsOnlyAHashOfTheToken(t *testing.T) {
	s, rdb := newStore(t)
	ctx := context.Background()
	token, err := s.Create(ctx, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 { // 32 random bytes, base64url without padding
		t.Fatalf("token %q is not 256 bits", token)
	}
	keys, err := rdb.Keys(ctx, "session:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, token) {
			t.Fatal("the raw token is stored in Redis")
		}
		vals, _ := rdb.HGetAll(ctx, k).Result()
		for _, v := range vals {
			if strings.Contains(v, token) {
				t.Fatal("the raw token is stored in Redis")
			}
		}
	}
	other, _ := s.Create(ctx, "user-1")
	if other == token {
		t.Fatal("two logins got the same token")
	}
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	s, rdb := newStore(t)
	ctx := context.Background()
	s.Idle, s.Absolute = time.Minute, time.Hour
	token, _ := s.Create(ctx, "user-2")
	ttl, _ := rdb.TTL(ctx, key(token)).Result()
	if ttl <= 0 || ttl > time.Minute {
		t.Fatalf("idle TTL %s, want ≤ 1m", ttl)
	}
	// Close to the absolute limit, a use slides the expiry only up to it.
	s.now = func() time.Time { return time.Now().Add(59*time.Minute + 30*time.Second) }
	if _, err := s.Get(ctx, token); err != nil {
		t.Fatal(err)
	}
	ttl, _ = rdb.TTL(ctx, key(token)).Result()
	if ttl > 31*time.Second {
		t.Fatalf("TTL %s slid past the absolute timeout", ttl)
	}
	// Past the absolute limit the session is gone, used or not.
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := s.Get(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("want ErrNoSession past the absolute timeout, got %v", err)
	}
	if n, _ := rdb.Exists(ctx, key(token)).Result(); n != 0 {
		t.Fatal("an expired session was left in Redis")
	}
}

func TestUnknownAndEmptyTokens(t *testing.T) {
	s, _ := newStore(t)
	for _, tok := range []string{"", "nope", strings.Repeat("x", 4096)} {
		if _, err := s.Get(context.Background(), tok); !errors.Is(err, ErrNoSession) {
			t.Fatalf("token %.10q: %v", tok, err)
		}
	}
}

// An account holds at most MaxPerUser sessions: a login beyond it ends the
// oldest, and sessions that expired on their own do not count.
func TestSessionsPerAccountAreBoundedOldestFirst(t *testing.T) {
	s, rdb := newStore(t)
	ctx := context.Background()
	s.MaxPerUser = 3
	user := "user-bound-" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
	var tokens []string
	for i := 0; i < 5; i++ {
		tok, err := s.Create(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	for i, tok := range tokens {
		ok, err := s.Exists(ctx, tok)
		if err != nil || ok != (i >= 2) {
			t.Fatalf("session %d exists=%v (%v); want only the newest three", i, ok, err)
		}
	}
	if n, _ := rdb.ZCard(ctx, indexKey(user)).Result(); n != 3 {
		t.Fatalf("index holds %d sessions, want 3", n)
	}
	// One expires by itself: the next login ends nobody else.
	rdb.Del(ctx, key(tokens[2]))
	tok, _ := s.Create(ctx, user)
	for _, tk := range []string{tokens[3], tokens[4], tok} {
		if ok, _ := s.Exists(ctx, tk); !ok {
			t.Fatal("a live session was ended although an expired one made room")
		}
	}
}

func TestDeleteAllEndsEverySessionOfTheAccountOnly(t *testing.T) {
	s, rdb := newStore(t)
	ctx := context.Background()
	user := "user-all-" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
	a, _ := s.Create(ctx, user)
	b, _ := s.Create(ctx, user)
	other, _ := s.Create(ctx, user+"-other")
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.ZCard(ctx, indexKey(user)).Result(); n != 1 {
		t.Fatalf("after one logout the index holds %d, want 1", n)
	}
	n, err := s.DeleteAll(ctx, user)
	if err != nil || n != 1 {
		t.Fatalf("DeleteAll: %d %v", n, err)
	}
	if ok, _ := s.Exists(ctx, b); ok {
		t.Fatal("a session survived log out everywhere")
	}
	if ok, _ := s.Exists(ctx, other); !ok {
		t.Fatal("another account's session was ended")
	}
	if n, _ := rdb.Exists(ctx, indexKey(user)).Result(); n != 0 {
		t.Fatal("the index was left behind")
	}
}

// Check sees the session but, unlike Get, does not keep it alive.
func TestCheckDoesNotSlideTheIdleTimeout(t *testing.T) {
	s, rdb := newStore(t)
	ctx := context.Background()
	s.Idle = time.Minute
	tok, _ := s.Create(ctx, "user-check")
	rdb.Expire(ctx, key(tok), 10*time.Second)
	if sess, err := s.Check(ctx, tok); err != nil || sess.UserID != "user-check" {
		t.Fatalf("Check: %+v %v", sess, err)
	}
	if ttl, _ := rdb.TTL(ctx, key(tok)).Result(); ttl > 10*time.Second {
		t.Fatalf("Check slid the TTL to %s", ttl)
	}
}
