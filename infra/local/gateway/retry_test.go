package gateway

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/knative/topology"
)

// flaky answers the first `failures` requests with status, then 200 "ok",
// and counts every request it gets.
type flaky struct {
	failures int32
	status   int
	calls    atomic.Int32
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.calls.Add(1) <= f.failures {
		w.Header().Set("X-From", "failed try")
		w.WriteHeader(f.status)
		io.WriteString(w, "the pod died")
		return
	}
	w.Header().Set("X-From", "good try")
	io.WriteString(w, "ok")
}

func retryGateway(t *testing.T, backend http.Handler) fixture {
	policy := &topology.Retry{Codes: []int{502, 503}, Attempts: 2, Backoff: 20 * time.Millisecond}
	return serve(t, Config{
		Route: func(method, _ string) (Rule, bool) {
			if method == http.MethodGet {
				return Rule{Backend: "api", Retry: policy}, true
			}
			return Rule{Backend: "api"}, true
		},
		Backends: map[string]http.Handler{"api": backend},
	})
}

// A read whose backend died (502) or was unavailable (503) is sent again
// after the backoff; the client sees only the good answer, with its own
// headers and none of the failed try's.
func TestAReadIsRetriedOnTheRulesCodes(t *testing.T) {
	for _, status := range []int{502, 503} {
		backend := &flaky{failures: 2, status: status}
		f := retryGateway(t, backend)
		start := time.Now()
		code, body, h := call(t, http.MethodGet, f.url+"/api/posts", nil)
		if code != 200 || body != "ok" || h.Get("X-From") != "good try" || backend.calls.Load() != 3 {
			t.Fatalf("after two %d: %d %q X-From %q, %d calls; want 200 ok from the third", status, code, body, h.Values("X-From"), backend.calls.Load())
		}
		if took := time.Since(start); took < 40*time.Millisecond {
			t.Fatalf("two retries took %s, want at least two backoffs of 20ms", took)
		}
	}
}

// Attempts bounds the retries: the last try's answer goes out as it is.
func TestTheLastTrysAnswerGoesOut(t *testing.T) {
	backend := &flaky{failures: 10, status: 502}
	f := retryGateway(t, backend)
	code, body, h := call(t, http.MethodGet, f.url+"/api/posts", nil)
	if code != 502 || body != "the pod died" || h.Get("X-From") != "failed try" || backend.calls.Load() != 3 {
		t.Fatalf("%d %q X-From %q after %d calls; want the third 502 as it was", code, body, h.Get("X-From"), backend.calls.Load())
	}
}

// Writes, codes the rule does not name and WebSocket upgrades are never
// retried.
func TestWhatIsNeverRetried(t *testing.T) {
	for _, c := range []struct {
		name, method string
		status       int
		header       http.Header
	}{
		{"a POST (the function may have committed)", http.MethodPost, 502, nil},
		{"a DELETE", http.MethodDelete, 503, nil},
		{"a 500 (the function's own answer)", http.MethodGet, 500, nil},
		{"a 504 (the function took too long)", http.MethodGet, 504, nil},
		{"a WebSocket upgrade", http.MethodGet, 502, http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}},
	} {
		backend := &flaky{failures: 1, status: c.status}
		f := retryGateway(t, backend)
		code, _, _ := call(t, c.method, f.url+"/api/posts", c.header)
		if code != c.status || backend.calls.Load() != 1 {
			t.Errorf("%s: %d after %d calls, want %d after one", c.name, code, backend.calls.Load(), c.status)
		}
	}
}
