package ratelimit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/infra/testenv"
)

func newLimiter(t *testing.T, max int, window time.Duration) *Limiter {
	opts, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	// A name of its own per test: the test Redis is shared.
	return New(rdb, slog.New(slog.NewTextHandler(io.Discard, nil)), fmt.Sprint("test-", time.Now().UnixNano()), max, window)
}

// Parallel takers get exactly Max go-aheads; the rest learn how long to wait.
func TestTakeAllowsExactlyMaxUnderConcurrency(t *testing.T) {
	l := newLimiter(t, 5, time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed, waits := 0, 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait, err := l.Take(context.Background(), "k")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case wait == 0:
				allowed++
			case wait > 0 && wait <= time.Minute:
				waits++
			}
		}()
	}
	wg.Wait()
	if allowed != 5 || waits != 45 {
		t.Fatalf("%d allowed, %d told to wait; want 5 and 45", allowed, waits)
	}
	if wait, _ := l.Take(context.Background(), "other"); wait != 0 {
		t.Fatal("another key was limited")
	}
}

func TestWindowEndsAndGiveNeverGoesNegative(t *testing.T) {
	l := newLimiter(t, 1, 300*time.Millisecond)
	ctx := context.Background()
	if err := l.Give(ctx, "k"); err != nil { // nothing taken yet
		t.Fatal(err)
	}
	if wait, _ := l.Take(ctx, "k"); wait != 0 {
		t.Fatal("a Give before any Take made room for two")
	}
	if wait, _ := l.Take(ctx, "k"); wait == 0 {
		t.Fatal("second take allowed")
	}
	l.Give(ctx, "k") //nolint:errcheck
	if wait, _ := l.Take(ctx, "k"); wait == 0 {
		t.Fatal("after giving one back of two, still over: want a wait")
	}
	time.Sleep(400 * time.Millisecond)
	if wait, _ := l.Take(ctx, "k"); wait != 0 {
		t.Fatal("the window did not end")
	}
}
