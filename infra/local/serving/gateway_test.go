package serving

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/tidings-dev/tidings/infra/local/gateway"
)

// The stack's real request path: gateway → Service (activator/queue-proxy)
// → function process.
func TestBehindGateway(t *testing.T) {
	h := start(t, Config{Name: "inbox", Timeout: 300 * time.Millisecond})
	logs := &syncBuffer{}
	gw := httptest.NewServer(gateway.New(gateway.Config{
		Resolve:  func(string) (string, bool) { return "inbox", true },
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
	eventually(t, "gateway log with the trace id the function saw ("+seen+")", func() bool {
		return strings.Contains(logs.String(), "trace_id="+seen[3:35])
	})

	// A WebSocket crosses both proxies and outlives the request timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(gw.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.CloseNow()
	time.Sleep(400 * time.Millisecond) // past Timeout
	if err := conn.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := conn.Read(ctx); err != nil || string(got) != "echo: hi" {
		t.Fatalf("read %q, %v", got, err)
	}
	conn.Close(websocket.StatusNormalClosure, "")

	// The Service's 504 is what the gateway logs and returns.
	resp, err = http.Get(gw.URL + "/slow?d=30s")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("slow request via gateway = %d, want 504", resp.StatusCode)
	}
	eventually(t, "gateway log of the 504", func() bool {
		return strings.Contains(logs.String(), "path=/slow status=504")
	})
}
