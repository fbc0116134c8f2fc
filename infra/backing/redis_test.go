package backing

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisServerKeepsDataAcrossRestart(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server binary:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()

	r, err := StartRedis(ctx, dir, freePort(t), progressTo(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Embedded() {
		t.Fatal("used miniredis although redis-server exists")
	}
	c := redis.NewClient(mustParseRedisURL(t, r.URL()))
	if err := c.Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	r2, err := StartRedis(ctx, dir, freePort(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Stop(context.Background())
	c2 := redis.NewClient(mustParseRedisURL(t, r2.URL()))
	defer c2.Close()
	got, err := c2.Get(ctx, "greeting").Result()
	if err != nil || got != "hello" {
		t.Fatalf("after restart got %q, %v; want hello", got, err)
	}
}

func TestRedisFallsBackToMiniredisWithoutBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no redis-server to be found
	ctx := context.Background()
	var said []string
	r, err := StartRedis(ctx, t.TempDir(), freePort(t), func(m string) { said = append(said, m) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	if !r.Embedded() {
		t.Fatal("expected the miniredis fallback")
	}
	if !strings.Contains(strings.Join(said, "\n"), "miniredis") {
		t.Errorf("fallback should be announced, progress was %q", said)
	}
	c := redis.NewClient(mustParseRedisURL(t, r.URL()))
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(ctx, "k").Val(); got != "v" {
		t.Fatalf("miniredis GET = %q", got)
	}
}

func TestRedisBusyPortAndUnusableDataDir(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server binary:", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := StartRedis(context.Background(), t.TempDir(), ln.Addr().(*net.TCPAddr).Port, nil); err == nil {
		t.Fatal("started on a busy port")
	}
	// A corrupt append-only manifest makes redis-server exit at start: the
	// error must carry its log.
	dir := t.TempDir()
	mustWrite(t, dir+"/appendonlydir/appendonly.aof.manifest", "this is not a manifest\n")
	_, err = StartRedis(context.Background(), dir, freePort(t), nil)
	if err == nil {
		t.Fatal("redis started with a corrupt AOF manifest")
	}
	t.Logf("refused as expected: %v", err)
	if !strings.Contains(err.Error(), "last lines") || !strings.Contains(strings.ToLower(err.Error()), "manifest") {
		t.Fatalf("error should include redis's own log, got %v", err)
	}
}

func mustParseRedisURL(t *testing.T, url string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
