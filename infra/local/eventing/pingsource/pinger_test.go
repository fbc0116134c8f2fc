package pingsource

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/infra/testenv"
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
	testenv.Eventually(t, 10*time.Second, "the schedule to fire twice", func() bool { return s.count() >= 2 })
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
	testenv.Eventually(t, 10*time.Second, "three pings after failures", func() bool { return s.count() >= 3 })

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

// The adapter runs in UTC: "0 9 * * *" is 09:00 UTC whatever the machine's
// zone; spec.timezone moves it.
func TestScheduleIsReadInUTCUnlessTimezoneIsSet(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	saved := time.Local
	time.Local = ny // as on a laptop outside UTC
	defer func() { time.Local = saved }()

	from := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		timezone string
		want     time.Time
	}{
		{"", time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)},
		{"Asia/Tokyo", time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC)}, // 09:00 JST is 00:00 UTC
	} {
		c2 := cfg("http://127.0.0.1:1", "0 9 * * *")
		c2.Timezone = c.timezone
		p, err := Start(context.Background(), c2)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Next(from); !got.Equal(c.want) {
			t.Errorf("timezone %q: next after %s = %s, want %s", c.timezone, from, got.UTC(), c.want)
		}
		p.Close()
	}
	c3 := cfg("http://127.0.0.1:1", "0 9 * * *")
	c3.Timezone = "Mars/Olympus"
	if _, err := Start(context.Background(), c3); err == nil {
		t.Error("an unknown timezone was accepted")
	}
}

// A failing sink is retried 5 times with backoff from 50 ms, as the
// adapter's CloudEvents client does; a 400 is not retried.
func TestFailedPingIsRetried(t *testing.T) {
	_, srv := newSink(t, http.StatusServiceUnavailable)
	var calls atomic.Int32
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	p, err := Start(context.Background(), cfg(srv.URL, "0 0 1 1 *"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.FireNow(context.Background()); err != nil {
		t.Fatalf("FireNow after two 503s: %v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("sink called %d times, want 3 (two retries)", calls.Load())
	}

	calls.Store(0)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	if err := p.FireNow(context.Background()); err == nil {
		t.Fatal("FireNow hid a sink that kept failing")
	}
	if calls.Load() != 1+5 {
		t.Fatalf("sink called %d times for a lasting 503, want 6 (1 + 5 retries)", calls.Load())
	}

	calls.Store(0)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
	})
	if err := p.FireNow(context.Background()); err == nil || calls.Load() != 1 {
		t.Fatalf("400: err %v after %d calls, want an error after 1", err, calls.Load())
	}
}
