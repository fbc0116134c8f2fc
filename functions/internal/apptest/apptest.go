// Package apptest builds a function's App against real test services: a
// fresh, migrated Postgres database (copied from a template), the test Redis, and an HTTP sink that records
// every CloudEvent it is sent, like a KafkaSink would accept them.
package apptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// Database returns the URL of a fresh database with every migration applied:
// a copy of a template migrated once per test binary.
func Database(t testing.TB) string {
	t.Helper()
	return testenv.PostgresFrom(t, "migrated", func(ctx context.Context, url string) error {
		pool, err := pg.Connect(ctx, url, 10*time.Second)
		if err != nil {
			return err
		}
		defer pool.Close()
		return pg.Migrate(ctx, pool)
	})
}

// New returns an App named name on a fresh database; sink may be "".
func New(t testing.TB, name string, needs app.Needs, sink string) *app.App {
	t.Helper()
	return NewWith(t, name, needs, app.Settings{Sink: sink})
}

// NewWith is New with settings of the test's own (a public URL, a Redis that
// is down); an empty DatabaseURL or RedisURL gets the test services.
func NewWith(t testing.TB, name string, needs app.Needs, s app.Settings) *app.App {
	t.Helper()
	ownDatabase := s.DatabaseURL != ""
	if !ownDatabase {
		s.DatabaseURL = Database(t)
	}
	if s.RedisURL == "" && (needs.Redis || needs.Sessions) {
		s.RedisURL = testenv.Redis(t)
	}
	a, err := app.New(context.Background(), name, needs, s)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	t.Cleanup(func() { a.Outbox.Wait(); a.Close() })
	// What the release's migrate Job does before any function runs.
	if ownDatabase {
		if err := pg.Migrate(context.Background(), a.Pool); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return a
}

// Function builds a function under test as the runtime does: New on a, then
// its Start hook; its Stop hook runs when the test ends. It fails the test
// when any of them fails.
func Function[F any](t testing.TB, a *app.App, build func(*app.App) (F, error)) F {
	t.Helper()
	f, err := build(a)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if st, ok := any(f).(app.Starter); ok {
		if err := st.Start(context.Background()); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	if st, ok := any(f).(app.Stopper); ok {
		t.Cleanup(func() {
			if err := st.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
	return f
}

// Sink is a recording CloudEvents receiver. Set Down to answer 503, as a
// KafkaSink does when Kafka refuses.
type Sink struct {
	URL  string
	Down atomic.Bool
	mu   sync.Mutex
	got  []event.Event
	hdrs []http.Header
}

// NewSink starts a recording sink, closed when the test ends.
func NewSink(t testing.TB) *Sink {
	s := &Sink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Down.Load() {
			http.Error(w, "kafka unavailable", http.StatusServiceUnavailable)
			return
		}
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, *e)
		s.hdrs = append(s.hdrs, r.Header.Clone())
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Events returns what the sink accepted so far.
func (s *Sink) Events() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.got...)
}

// Headers returns the HTTP headers of each accepted request.
func (s *Sink) Headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.hdrs...)
}
