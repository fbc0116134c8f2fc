package main

import (
	"time"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/ratelimit"
)

// limits bound what one account can make the system do to others: look
// people up, and send them requests (each one a live notification).
type limits struct {
	// searches per account per minute (SEARCHES_PER_MINUTE, default 60:
	// search-as-you-type at a brisk pace).
	searches *ratelimit.Limiter
	// requests sent per account per hour (FRIEND_REQUESTS_PER_HOUR,
	// default 100).
	requests *ratelimit.Limiter
	// cooldown is how long after a request was cancelled or declined the
	// same requester may not ask the same person again
	// (FRIEND_REQUEST_COOLDOWN, default 1h).
	cooldown time.Duration
}

func newLimits(a *app.App) (limits, error) {
	searches, err := config.Int("SEARCHES_PER_MINUTE", 60)
	if err != nil {
		return limits{}, err
	}
	requests, err := config.Int("FRIEND_REQUESTS_PER_HOUR", 100)
	if err != nil {
		return limits{}, err
	}
	cooldown, err := config.Duration("FRIEND_REQUEST_COOLDOWN", time.Hour)
	if err != nil {
		return limits{}, err
	}
	return limits{
		searches: ratelimit.New(a.Redis, a.Log, "search", searches, time.Minute),
		requests: ratelimit.New(a.Redis, a.Log, "friend-request", requests, time.Hour),
		cooldown: cooldown,
	}, nil
}
