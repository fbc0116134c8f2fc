package serving

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/infra/local/gateway"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// The stack's real request path: gateway → Service (activator/queue-proxy)
// → function process.
func TestBehindGateway(t *testing.T) {
	h := start(t, Config{Name: "inbox", Timeout: 300 * time.Millisecond})
	logs := &syncBuffer{}
	gw := httptest.NewServer(gateway.New(gateway.Config{
		Route: func(string, string) (gateway.Rule, bool) {
			return gateway.Rule{Backend: "inbox", RewriteHost: "inbox.tidings.svc.cluster.local"}, true
		},
		Backends: map[string]http.Handler{"inbox": h.svc},
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
	}))
	defer gw.Close()

	// The trace context the gateway generates reaches the function.
	resp, err := http.Post(gw.URL+"/echo", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := resp.Header.Get("X-Seen-Traceparent")
	if resp.StatusCode != http.StatusOK || len(seen) != 55 {
		t.Fatalf("POST /echo via gateway = %d, function saw traceparent %q", resp.StatusCode, seen)
	}
	// The log line is written after the response has gone out.
	testenv.Eventually(t, 15*time.Second, "gateway log with the trace id the function saw ("+seen+")", func() bool {
		return strings.Contains(logs.String(), "trace_id="+seen[3:35])
	})

	// The function sees the Host the HTTPRoute's URLRewrite sets, and no
	// X-Forwarded-Host from any hop.
	resp, err = http.Get(gw.URL + "/headers")
	if err != nil {
		t.Fatal(err)
	}
	var headers map[string]string
	json.NewDecoder(resp.Body).Decode(&headers)
	resp.Body.Close()
	if headers["host"] != "inbox.tidings.svc.cluster.local" || headers["x-forwarded-host"] != "" {
		t.Fatalf("function saw Host %q, X-Forwarded-Host %q; want the cluster-local host and none", headers["host"], headers["x-forwarded-host"])
	}
	if headers["x-forwarded-proto"] != "http" || headers["x-forwarded-for"] != "127.0.0.1, 127.0.0.1" {
		t.Fatalf("X-Forwarded-Proto %q, X-Forwarded-For %q", headers["x-forwarded-proto"], headers["x-forwarded-for"])
	}

	// A WebSocket crosses both proxies and is closed at the request timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := dialWS(t, ctx, gw.URL)
	defer conn.CloseNow()
	echo(t, ctx, conn, "hi")
	if _, _, err := conn.Read(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("read past the timeout = %v, want the connection closed", err)
	}

	// The Service's 504 is what the gateway logs and returns.
	resp, err = http.Get(gw.URL + "/slow?d=30s")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("slow request via gateway = %d, want 504", resp.StatusCode)
	}
	testenv.Eventually(t, 15*time.Second, "gateway log of the 504", func() bool {
		return strings.Contains(logs.String(), "path=/slow status=504")
	})
}
