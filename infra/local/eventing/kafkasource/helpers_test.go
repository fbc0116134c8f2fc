package kafkasource

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type received struct {
	header http.Header
	body   []byte
}

// endpoint is a real HTTP server standing in for a subscriber or a
// dead-letter sink. It records every request and answers with respond.
type endpoint struct {
	srv     *httptest.Server
	respond func(w http.ResponseWriter, r *http.Request, n int)

	mu       sync.Mutex
	requests []received

	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

func newEndpoint(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) *endpoint {
	t.Helper()
	e := &endpoint{respond: respond}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := e.inFlight.Add(1)
		defer e.inFlight.Add(-1)
		for {
			prev := e.maxInFlight.Load()
			if now <= prev || e.maxInFlight.CompareAndSwap(prev, now) {
				break
			}
		}
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.requests = append(e.requests, received{header: r.Header.Clone(), body: body})
		n := len(e.requests)
		e.mu.Unlock()
		if e.respond == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		e.respond(w, r, n)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func status(code int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) }
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.requests)
}

func (e *endpoint) got() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.requests...)
}

// ids returns the ce-id of every request so far, in arrival order.
func (e *endpoint) ids() []string {
	var out []string
	for _, r := range e.got() {
		out = append(out, r.header.Get("Ce-Id"))
	}
	return out
}
