package serving

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/infra/testenv"
	"github.com/tidings-dev/tidings/knative/topology"
)

// Kubernetes and queue-proxy count any status from 200 to 399 as passing.
func TestReadinessAcceptsRedirectStatus(t *testing.T) {
	h := start(t, Config{StartTimeout: 3 * time.Second, Env: map[string]string{"HELLO_READY_STATUS": "302"}})
	if status, body := h.get(t, "/stats"); status != http.StatusOK {
		t.Fatalf("request to a Service whose readiness answers 302 = %d %s, want 200", status, body)
	}
	// And a 400 is a failure.
	h = start(t, Config{StartTimeout: 500 * time.Millisecond, Env: map[string]string{"HELLO_READY_STATUS": "400"}})
	if status, _ := h.get(t, "/stats"); status != http.StatusServiceUnavailable {
		t.Fatalf("readiness answering 400 gave %d, want 503 (never ready)", status)
	}
}

// After the cold start, readiness keeps being probed; while it fails,
// requests wait for it (and time out), and it recovers by itself.
func TestFailingReadinessHoldsRequestsBack(t *testing.T) {
	h := start(t, Config{
		Timeout:   500 * time.Millisecond,
		Readiness: Probe{Path: "/healthz", ProbeTiming: topology.ProbeTiming{Period: 20 * time.Millisecond, FailureThreshold: 2}},
	})
	if status, _ := h.get(t, "/stats"); status != http.StatusOK {
		t.Fatalf("first request = %d", status)
	}
	h.direct(t, "/probe?name=ready&status=503")
	testenv.Eventually(t, 15*time.Second, "readiness failure to be noticed", func() bool {
		return strings.Contains(h.logs.String(), "readiness probe failing")
	})
	if status, _ := h.get(t, "/stats"); status != http.StatusGatewayTimeout {
		t.Fatalf("request while not ready = %d, want 504 after waiting", status)
	}

	h.direct(t, "/probe?name=ready&status=204")
	testenv.Eventually(t, 15*time.Second, "readiness to pass again", func() bool {
		return strings.Contains(h.logs.String(), "readiness probe passes again")
	})
	if status, _ := h.get(t, "/stats"); status != http.StatusOK {
		t.Fatalf("request after readiness recovered = %d, want 200", status)
	}
	if n := len(h.svc.ColdStarts()); n != 1 {
		t.Fatalf("cold starts = %d, want 1: readiness never restarts", n)
	}
}

// failureThreshold liveness failures in a row restart the process.
func TestLivenessFailuresRestartTheProcess(t *testing.T) {
	h := start(t, Config{
		Liveness: Probe{Path: "/livez", ProbeTiming: topology.ProbeTiming{Period: 20 * time.Millisecond, FailureThreshold: 3}},
	})
	first := h.env(t)
	h.direct(t, "/probe?name=live&status=500")
	testenv.Eventually(t, 15*time.Second, "the unhealthy process to be stopped", func() bool { return processGone(first.Pid) })
	if !strings.Contains(h.logs.String(), "liveness probe failed: restarting") {
		t.Fatalf("restart not logged:\n%s", h.logs)
	}
	second := h.env(t)
	if second.Pid == first.Pid {
		t.Fatalf("same pid %d after a liveness restart", first.Pid)
	}
	// A healthy process is left alone.
	time.Sleep(200 * time.Millisecond)
	if third := h.env(t); third.Pid != second.Pid {
		t.Fatalf("healthy process restarted: pid %d → %d", second.Pid, third.Pid)
	}
}
