package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/infra/backing"
)

const defaultRedisURL = "redis://127.0.0.1:6379/0"

type redisServer struct {
	envURL, defaultURL string

	once    sync.Once
	url     string
	err     error
	private *backing.Redis
}

var sharedRedis = &redisServer{envURL: os.Getenv("TIDINGS_TEST_REDIS_URL"), defaultURL: defaultRedisURL}

// Redis returns the URL of a Redis shared by the whole test binary; use
// random keys (RandomName) so tests do not see each other's data.
func Redis(t testing.TB) string {
	t.Helper()
	return sharedRedis.get(t)
}

func (s *redisServer) get(t testing.TB) string {
	t.Helper()
	s.once.Do(s.find)
	if s.err != nil {
		t.Fatalf("testenv: no Redis: %v", s.err)
	}
	return s.url
}

func (s *redisServer) find() {
	url := s.envURL
	if url == "" {
		url = s.defaultURL
	}
	reachErr := pingRedis(url)
	if reachErr == nil {
		s.url = url
		return
	}
	if s.envURL != "" {
		s.err = fmt.Errorf("TIDINGS_TEST_REDIS_URL=%s is unreachable: %w", s.envURL, reachErr)
		return
	}
	dir, err := privateDir("redis")
	if err != nil {
		s.err = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 3 { // a free port can be taken by a parallel test binary
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		if s.private, err = backing.StartRedis(ctx, dir, port, nil); err == nil {
			s.url = s.private.URL()
			return
		}
		if !strings.Contains(err.Error(), "cannot listen") {
			break
		}
	}
	s.err = fmt.Errorf("%s unreachable (%v), and a private server failed: %w", url, reachErr, err)
}

func pingRedis(url string) error {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	opts.MaxRetries = -1
	opts.DialTimeout = 2 * time.Second
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}
