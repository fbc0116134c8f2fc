package pingsource

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

type sink struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies []string
}

func newSink(t *testing.T, status int) (*sink, *httptest.Server) {
	s := &sink{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, r)
		s.bodies = append(s.bodies, string(body))
		code := s.status
		s.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func cfg(url, schedule string) Config {
	return Config{
		Name: "outbox-relay", Namespace: "tidings", Schedule: schedule,
		ContentType: "application/json", Data: `{"sweep":true}`, SinkURL: url,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func TestFireNowSendsPingEvent(t *testing.T) {
	s, srv := newSink(t, http.StatusAccepted)
	p, err := Start(context.Background(), cfg(srv.URL, "0 0 1 1 *"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.FireNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.FireNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.got[0].Header
	for k, want := range map[string]string{
		"Ce-Specversion": "1.0",
		"Ce-Type":        "dev.knative.sources.ping",
		"Ce-Source":      "/apis/v1/namespaces/tidings/pingsources/outbox-relay",
		"Content-Type":   "application/json",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if s.bodies[0] != `{"sweep":true}` {
		t.Errorf("body %q", s.bodies[0])
	}
	if _, err := time.Parse(time.RFC3339, h.Get("Ce-Time")); err != nil {
		t.Errorf("ce-time %q: %v", h.Get("Ce-Time"), err)
	}
	if id0, id1 := h.Get("Ce-Id"), s.got[1].Header.Get("Ce-Id"); id0 == "" || id0 == id1 {
		t.Errorf("ids %q and %q must be set and unique", id0, id1)
	}
}

func TestScheduleFires(t *testing.T) {
	s, srv := newSink(t, http.StatusOK)
	p, err := Start(context.Background(), cfg(srv.URL, "@every 1s"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	deadline := time.Now().Add(10 * time.Second)
	for s.count() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("schedule fired %d times in 10s, want 2", s.count())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSinkFailuresAreReportedNotFatal(t *testing.T) {
	s, srv := newSink(t, http.StatusServiceUnavailable)
	p, err := Start(context.Background(), cfg(srv.URL, "@every 1s"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.FireNow(context.Background()); err == nil {
		t.Error("FireNow hid a 503")
	}
	// The schedule keeps going after failures.
	deadline := time.Now().Add(10 * time.Second)
	for s.count() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d pings after failures", s.count())
		}
		time.Sleep(50 * time.Millisecond)
	}

	srv.Close()
	if err := p.FireNow(context.Background()); err == nil {
		t.Error("FireNow hid an unreachable sink")
	}
}

func TestStopOnContextCancel(t *testing.T) {
	s, srv := newSink(t, http.StatusOK)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, cfg(srv.URL, "@every 1s"))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	p.Close() // waits for the scheduler to stop
	n := s.count()
	time.Sleep(1500 * time.Millisecond)
	if s.count() != n {
		t.Errorf("pinged after stop: %d then %d", n, s.count())
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	for _, c := range []Config{
		cfg("http://x", "every minute"),
		cfg("http://x", "* * * * * *"), // six fields: seconds are not standard cron
		cfg("", "* * * * *"),
		{Schedule: "* * * * *", SinkURL: "http://x"},
	} {
		if p, err := Start(context.Background(), c); err == nil {
			p.Close()
			t.Errorf("config %+v accepted", c)
		}
	}
}
