package main

import (
	"time"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/clientip"
	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/ratelimit"
)

// limits bound signups per client address: each costs an argon2 hash, and
// unbounded signups are how spam accounts are made.
type limits struct {
	signups *ratelimit.Limiter
	hops    int // trusted proxies appending to X-Forwarded-For
}

// newLimits reads SIGNUPS_PER_HOUR (default 20 per client address) and
// TRUSTED_PROXY_HOPS.
func newLimits(a *app.App) (limits, error) {
	n, err := config.Int("SIGNUPS_PER_HOUR", 20)
	if err != nil {
		return limits{}, err
	}
	hops, err := clientip.HopsFromEnv()
	if err != nil {
		return limits{}, err
	}
	return limits{signups: ratelimit.New(a.Redis, a.Log, "signup", n, time.Hour), hops: hops}, nil
}
