package app_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// hooked is a function with every lifecycle hook, recording the calls.
type hooked struct {
	http.Handler
	mu    sync.Mutex
	calls []string
	ready error
}

func (h *hooked) record(call string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, call)
}

func (h *hooked) Start(context.Context) error { h.record("start"); return nil }
func (h *hooked) Stop(context.Context) error  { h.record("stop"); return nil }
func (h *hooked) Ready(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ready
}

// running is a function served by app.Run on a free port.
type running struct {
	base string
	stop func() error // ends ctx, returns Run's error
}

func run[F http.Handler](t *testing.T, needs app.Needs, s app.Settings, build func(*app.App) (F, error)) running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, ln, "test", needs, s, build) }()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	r := running{base: "http://" + ln.Addr().String(), stop: stop}
	t.Cleanup(func() { _ = r.stop() })
	return r
}

func (r running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := http.Get(r.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// migratedDB is a fresh database the migrate command has run on.
func migratedDB(t *testing.T) string {
	t.Helper()
	url := testenv.Postgres(t)
	pool, err := pg.Connect(context.Background(), url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pg.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return url
}

func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// The runtime calls Start before serving, adds Ready to the readiness probe
// (never to liveness) and calls Stop on shutdown.
func TestRunCallsTheLifecycleHooks(t *testing.T) {
	f := &hooked{Handler: http.NotFoundHandler(), ready: errors.New("warming up")}
	r := run(t, app.Needs{}, app.Settings{DatabaseURL: migratedDB(t)}, func(*app.App) (*hooked, error) { return f, nil })
	if code, body := r.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "warming up") {
		t.Fatalf("readyz while the function is not ready: %d %q", code, body)
	}
	if code, _ := r.get(t, "/livez"); code != http.StatusOK {
		t.Fatalf("livez: %d", code)
	}
	f.mu.Lock()
	f.ready = nil
	f.mu.Unlock()
	if code, _ := r.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz once ready: %d", code)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.calls, []string{"start", "stop"}) {
		t.Fatalf("hooks called %v, want [start stop]", f.calls)
	}
}

// A function that needs sessions starts while Redis is down and reports not
// ready; it stays alive, so the kubelet does not restart it.
func TestAFunctionStartsWithRedisDown(t *testing.T) {
	s := app.Settings{DatabaseURL: migratedDB(t), RedisURL: "redis://" + deadAddr(t)}
	r := run(t, app.Needs{Sessions: true}, s, func(*app.App) (http.Handler, error) { return http.NotFoundHandler(), nil })
	if code, body := r.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "redis") {
		t.Fatalf("readyz with Redis down: %d %q", code, body)
	}
	if code, _ := r.get(t, "/livez"); code != http.StatusOK {
		t.Fatalf("livez with Redis down: %d", code)
	}
}

// Redis for best-effort work only (notify's live push) is not part of
// readiness.
func TestBestEffortRedisIsNotPartOfReadiness(t *testing.T) {
	s := app.Settings{DatabaseURL: migratedDB(t), RedisURL: "redis://" + deadAddr(t)}
	r := run(t, app.Needs{Redis: true}, s, func(*app.App) (http.Handler, error) { return http.NotFoundHandler(), nil })
	if code, body := r.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz with Redis down: %d %q, want 200", code, body)
	}
}

// A function that emits events starts without K_SINK (the SinkBinding has
// not patched it in yet) and reports not ready instead of exiting.
func TestAnEmitterStartsWithoutKSinkAndIsNotReady(t *testing.T) {
	db := migratedDB(t)
	handler := func(*app.App) (http.Handler, error) { return http.NotFoundHandler(), nil }
	r := run(t, app.Needs{Sink: true}, app.Settings{DatabaseURL: db}, handler)
	if code, body := r.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "K_SINK") {
		t.Fatalf("readyz without K_SINK: %d %q", code, body)
	}
	if code, _ := r.get(t, "/livez"); code != http.StatusOK {
		t.Fatalf("livez without K_SINK: %d", code)
	}
	bound := run(t, app.Needs{Sink: true}, app.Settings{DatabaseURL: db, Sink: "http://127.0.0.1:1/"}, handler)
	if code, body := bound.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz with K_SINK: %d %q", code, body)
	}
}

// A cold start no longer migrates: on a database the release's migrate Job
// has not run on, the function starts, stays alive, and is not ready until
// the schema it was built for is there.
func TestAFunctionIsNotReadyUntilItsSchemaIsApplied(t *testing.T) {
	url := testenv.Postgres(t)
	r := run(t, app.Needs{}, app.Settings{DatabaseURL: url}, func(*app.App) (http.Handler, error) { return http.NotFoundHandler(), nil })
	if code, body := r.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "schema is behind") {
		t.Fatalf("readyz on an unmigrated database: %d %q", code, body)
	}
	if code, _ := r.get(t, "/livez"); code != http.StatusOK {
		t.Fatalf("livez on an unmigrated database: %d", code)
	}
	pool, err := pg.Connect(context.Background(), url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var tables int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("the cold start changed the schema: %d tables (%v)", tables, err)
	}
	if err := pg.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	if code, body := r.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz once migrated: %d %q", code, body)
	}
}
