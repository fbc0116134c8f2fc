// Package ratelimit counts actions per key in Redis over a fixed window. An
// action is counted before it is done (INCR and the window's PEXPIRE NX in one
// MULTI), so a burst of parallel requests cannot all slip through between a
// check and a count: at most Max of them are ever allowed per window.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/functions/problem"
)

// Limiter allows Max actions per key per Window.
type Limiter struct {
	rdb *redis.Client
	// Name prefixes the Redis keys, so two limits never share a counter.
	Name   string
	Max    int64
	Window time.Duration
	log    *slog.Logger
}

// New returns a limiter of max actions per window, its counters named name.
func New(rdb *redis.Client, log *slog.Logger, name string, max int, window time.Duration) *Limiter {
	return &Limiter{rdb: rdb, log: log, Name: name, Max: int64(max), Window: window}
}

// Allow takes one action for key and answers the request itself when it may
// not go ahead: 429 with Retry-After and detail over the limit, 503 when
// Redis cannot count (an uncounted action would be an unlimited one).
func (l *Limiter) Allow(w http.ResponseWriter, r *http.Request, key, detail string) bool {
	wait, err := l.Take(r.Context(), key)
	switch {
	case err != nil:
		l.log.ErrorContext(r.Context(), "rate limiter", "limit", l.Name, "err", err)
		problem.Unavailable(w, "Please try again in a moment.")
		return false
	case wait > 0:
		problem.TooMany(w, wait, detail)
		return false
	}
	return true
}

// key hashes the caller's key: it may be an email or an address, which
// Redis need not hold in clear.
func (l *Limiter) key(k string) string {
	sum := sha256.Sum256([]byte(k))
	return "ratelimit:" + l.Name + ":" + hex.EncodeToString(sum[:16])
}

// Take counts one action for k and reports how long k must wait when it is
// over the limit (zero: go ahead). The window starts at the first action.
func (l *Limiter) Take(ctx context.Context, k string) (time.Duration, error) {
	rk := l.key(k)
	var incr *redis.IntCmd
	var ttl *redis.DurationCmd
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, rk)
		p.Do(ctx, "PEXPIRE", rk, l.Window.Milliseconds(), "NX")
		ttl = p.PTTL(ctx, rk)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", l.Name, err)
	}
	if incr.Val() <= l.Max {
		return 0, nil
	}
	if wait := ttl.Val(); wait > 0 {
		return wait, nil
	}
	return l.Window, nil
}

// Give hands back one action taken for k, for an attempt that should not
// count (a successful login). It never goes below zero.
func (l *Limiter) Give(ctx context.Context, k string) error {
	rk := l.key(k)
	// DECR on a key that expired meanwhile would create it at -1 with no
	// expiry; the script only decrements a counter that is still there.
	err := give.Run(ctx, l.rdb, []string{rk}).Err()
	if err != nil && err != redis.Nil {
		return fmt.Errorf("rate limit %s: %w", l.Name, err)
	}
	return nil
}

var give = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0`)

// Reset forgets every action counted for k.
func (l *Limiter) Reset(ctx context.Context, k string) error {
	return l.rdb.Del(ctx, l.key(k)).Err()
}
