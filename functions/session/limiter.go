package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// failureLimiter counts failed logins per account in Redis. After max
// failures within window the account refuses logins until the window ends,
// which stops password guessing without locking the owner out for long.
type failureLimiter struct {
	rdb    *redis.Client
	max    int64
	window time.Duration
}

func (l *failureLimiter) key(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "login-failures:" + hex.EncodeToString(sum[:])
}

// blocked reports how long the account must wait, zero if it may try.
func (l *failureLimiter) blocked(ctx context.Context, email string) (time.Duration, error) {
	k := l.key(email)
	n, err := l.rdb.Get(ctx, k).Int64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if n < l.max {
		return 0, nil
	}
	ttl, err := l.rdb.TTL(ctx, k).Result()
	if err != nil || ttl <= 0 {
		return l.window, err
	}
	return ttl, nil
}

// fail records one failure; the window starts at the first failure.
func (l *failureLimiter) fail(ctx context.Context, email string) error {
	k := l.key(email)
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, k)
		p.ExpireNX(ctx, k, l.window)
		return nil
	})
	return err
}

// reset forgets the failures after a successful login.
func (l *failureLimiter) reset(ctx context.Context, email string) error {
	return l.rdb.Del(ctx, l.key(email)).Err()
}
