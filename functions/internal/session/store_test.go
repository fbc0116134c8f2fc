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
