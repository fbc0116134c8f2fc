// Package config reads a function's settings from the environment, with
// defaults that work on the local stack.
package config

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// String returns $key, or def when unset or empty.
func String(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Int returns $key as an int, or def when unset. A malformed value is an
// error: a typo in a deployment must not silently become the default.
func Int(key string, def int) (int, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a whole number", key, v)
	}
	return n, nil
}

// Duration returns $key as a Go duration ("30s", "5m"), or def when unset.
func Duration(key string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a duration like 30s", key, v)
	}
	return d, nil
}

// Local defaults: the ports the local stack listens on.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:54329/tidings?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:63799/0"
	DefaultSMTPAddr    = "127.0.0.1:1025"
	// DefaultPublicURL is where browsers reach the site: the local gateway.
	DefaultPublicURL = "http://localhost:8080"
)
