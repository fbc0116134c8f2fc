package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

// logLines decodes the JSON log lines written so far.
func (b *syncBuffer) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		lines = append(lines, m)
	}
	return lines
}

// requestLog waits for the one "http request" log line of path.
func (b *syncBuffer) requestLog(t *testing.T, path string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found []map[string]any
		for _, m := range b.logLines(t) {
			if m["msg"] == "http request" && m["path"] == path {
				found = append(found, m)
			}
		}
		if len(found) > 1 {
			t.Fatalf("%d log lines for %s, want 1", len(found), path)
		}
		if len(found) == 1 {
			return found[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request log line for %s in:\n%s", path, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seen is what a test backend reports about the request it got.
type seen struct {
	Backend     string `json:"backend"`
	Path        string `json:"path"`
	Traceparent string `json:"traceparent"`
	Tracestate  string `json:"tracestate"`
}

// upstream is a real HTTP server standing in for a function, reached the
// way the stack reaches one: through a reverse proxy.
func upstream(t *testing.T, name string) http.Handler {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen{Backend: name, Path: r.URL.Path, Traceparent: r.Header.Get("traceparent"), Tracestate: r.Header.Get("tracestate")})
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return httputil.NewSingleHostReverseProxy(u)
}

// table is a small stand-in for the HTTPRoute resolver: exact matches,
// then the longest prefix.
func table(exact, prefix map[string]string) func(string) (string, bool) {
	return func(p string) (string, bool) {
		if b, ok := exact[p]; ok {
			return b, true
		}
		best, backend := -1, ""
		for pre, b := range prefix {
			if strings.HasPrefix(p, pre) && len(pre) > best {
				best, backend = len(pre), b
			}
		}
		return backend, best >= 0
	}
}

// byBackend turns a path → backend table into rules without filters.
func byBackend(resolve func(string) (string, bool)) func(string, string) (Rule, bool) {
	return func(_, p string) (Rule, bool) {
		b, ok := resolve(p)
		return Rule{Backend: b}, ok
	}
}

type fixture struct {
	url  string
	logs *syncBuffer
}

func serve(t *testing.T, cfg Config) fixture {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	srv := httptest.NewServer(New(cfg))
	t.Cleanup(srv.Close)
	return fixture{url: srv.URL, logs: logs}
}

func getJSON(t *testing.T, rawURL string, header http.Header) (int, http.Header, seen, string) {
	t.Helper()
	code, body, h := call(t, http.MethodGet, rawURL, header)
	var s seen
	json.Unmarshal([]byte(body), &s)
	return code, h, s, body
}

// call sends one request with the given header and returns the answer.
func call(t *testing.T, method, url string, header http.Header) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestRoutesByResolvedBackend(t *testing.T) {
	f := serve(t, Config{
		Route: byBackend(table(
			map[string]string{"/api/users": "friends"},
			map[string]string{"/api/signup": "signup", "/api/users/": "post", "/": "web"},
		)),
		Backends: map[string]http.Handler{
			"signup":  upstream(t, "signup"),
			"friends": upstream(t, "friends"),
			"post":    upstream(t, "post"),
			"web":     upstream(t, "web"),
		},
	})
	for path, want := range map[string]string{
		"/api/signup":         "signup",
		"/api/users":          "friends",
		"/api/users/42/posts": "post",
		"/index.html":         "web",
	} {
		status, _, got, body := getJSON(t, f.url+path, nil)
		if status != http.StatusOK || got.Backend != want || got.Path != path {
			t.Errorf("GET %s → %d %s, want backend %s with the path unchanged", path, status, body, want)
		}
		if line := f.logs.requestLog(t, path); line["backend"] != want {
			t.Errorf("log line for %s names backend %v, want %s", path, line["backend"], want)
		}
	}
}

func TestUnknownBackendIs502Problem(t *testing.T) {
	f := serve(t, Config{
		Route:    byBackend(func(string) (string, bool) { return "ghost", true }),
		Backends: map[string]http.Handler{"web": upstream(t, "web")},
	})
	status, header, _, body := getJSON(t, f.url+"/api/nothing", nil)
	if status != http.StatusBadGateway {
		t.Fatalf("status = %d, want 502", status)
	}
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status != 502 || !strings.Contains(p.Detail, "ghost") {
		t.Fatalf("problem body = %s (%v), want status 502 naming the backend", body, err)
	}
	line := f.logs.requestLog(t, "/api/nothing")
	if line["status"] != float64(502) || line["level"] != "WARN" {
		t.Fatalf("log line = %v, want status 502 at WARN", line)
	}
}

func TestNoRouteUsesFallbackOr404(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	withFallback := serve(t, Config{Route: byBackend(none), Fallback: upstream(t, "placeholder")})
	status, _, got, _ := getJSON(t, withFallback.url+"/anything", nil)
	if status != http.StatusOK || got.Backend != "placeholder" {
		t.Fatalf("unrouted path with a fallback → %d %+v, want the fallback", status, got)
	}
	if line := withFallback.logs.requestLog(t, "/anything"); line["backend"] != FallbackBackend {
		t.Fatalf("fallback logged as backend %v", line["backend"])
	}

	without := serve(t, Config{Route: byBackend(none)})
	status, header, _, _ := getJSON(t, without.url+"/anything", nil)
	if status != http.StatusNotFound || header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unrouted path without fallback → %d %s, want 404 problem+json", status, header.Get("Content-Type"))
	}
}

func TestTraceparentKeptOrGenerated(t *testing.T) {
	f := serve(t, Config{
		Route:    byBackend(func(string) (string, bool) { return "api", true }),
		Backends: map[string]http.Handler{"api": upstream(t, "api")},
	})

	const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	_, _, got, _ := getJSON(t, f.url+"/kept", http.Header{"Traceparent": {incoming}, "Tracestate": {"x=1"}})
	if got.Traceparent != incoming || got.Tracestate != "x=1" {
		t.Fatalf("backend saw traceparent %q tracestate %q, want them unchanged", got.Traceparent, got.Tracestate)
	}
	if line := f.logs.requestLog(t, "/kept"); line["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("logged trace_id = %v", line["trace_id"])
	}

	_, _, got, _ = getJSON(t, f.url+"/generated", nil)
	traceID, ok := traceIDOf(got.Traceparent)
	if !ok {
		t.Fatalf("generated traceparent %q is not valid", got.Traceparent)
	}
	if line := f.logs.requestLog(t, "/generated"); line["trace_id"] != traceID {
		t.Fatalf("logged trace_id %v, backend saw %s", line["trace_id"], traceID)
	}

	_, _, got, _ = getJSON(t, f.url+"/malformed", http.Header{"Traceparent": {"00-zzzz-not-valid"}, "Tracestate": {"x=1"}})
	if _, ok := traceIDOf(got.Traceparent); !ok || got.Tracestate != "" {
		t.Fatalf("malformed traceparent → backend saw %q / tracestate %q, want a fresh valid one and no tracestate", got.Traceparent, got.Tracestate)
	}

	_, _, a, _ := getJSON(t, f.url+"/a", nil)
	_, _, b, _ := getJSON(t, f.url+"/b", nil)
	if a.Traceparent == b.Traceparent {
		t.Fatalf("two requests got the same generated traceparent %s", a.Traceparent)
	}
}

func TestTraceIDOf(t *testing.T) {
	for tp, want := range map[string]bool{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":        true,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future": true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra":  false, // version 00 is exactly 55 chars
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":        false,
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01":        false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01":        false,
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01":        false,
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":        false,
		"": false,
	} {
		if _, ok := traceIDOf(tp); ok != want {
			t.Errorf("traceIDOf(%q) ok = %v, want %v", tp, ok, want)
		}
	}
}

func TestPathNormalizedBeforeRouting(t *testing.T) {
	var resolved []string
	var mu sync.Mutex
	f := serve(t, Config{
		Route: byBackend(func(p string) (string, bool) {
			mu.Lock()
			resolved = append(resolved, p)
			mu.Unlock()
			if strings.HasPrefix(p, "/api/") {
				return "api", true
			}
			return "web", true
		}),
		Backends: map[string]http.Handler{"api": upstream(t, "api"), "web": upstream(t, "web")},
	})
	// A raw request, so the client does not clean the path itself.
	_, _, got, _ := rawGet(t, f.url, "/api/../admin")
	if got.Backend != "web" || got.Path != "/admin" {
		t.Fatalf("/api/../admin reached %s as %s, want web as /admin", got.Backend, got.Path)
	}
	_, _, got, _ = rawGet(t, f.url, "/api//notifications/")
	if got.Backend != "api" || got.Path != "/api/notifications/" {
		t.Fatalf("/api//notifications/ reached %s as %s, want api as /api/notifications/", got.Backend, got.Path)
	}
}

func rawGet(t *testing.T, base, path string) (int, http.Header, seen, string) {
	t.Helper()
	u, _ := url.Parse(base)
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "http", Host: u.Host, Opaque: path}, Host: u.Host, Header: http.Header{}}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var s seen
	json.Unmarshal(body, &s)
	return resp.StatusCode, resp.Header, s, string(body)
}

func TestWebSocketThroughGateway(t *testing.T) {
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, append([]byte("echo: "), msg...))
		}
	}))
	t.Cleanup(ws.Close)
	u, _ := url.Parse(ws.URL)
	f := serve(t, Config{
		Route:    byBackend(func(string) (string, bool) { return "inbox", true }),
		Backends: map[string]http.Handler{"inbox": httputil.NewSingleHostReverseProxy(u)},
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"/api/notifications/stream", nil)
	if err != nil {
		t.Fatalf("dial through gateway: %v", err)
	}
	for i := range 3 {
		msg := fmt.Sprintf("n%d", i)
		if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := conn.Read(ctx)
		if err != nil || string(got) != "echo: "+msg {
			t.Fatalf("read %q, %v", got, err)
		}
	}
	conn.Close(websocket.StatusNormalClosure, "")
	if line := f.logs.requestLog(t, "/api/notifications/stream"); line["status"] != float64(101) {
		t.Fatalf("WebSocket logged with status %v, want 101", line["status"])
	}
}

func TestStreamingPassesFlushes(t *testing.T) {
	release := make(chan struct{})
	f := serve(t, Config{
		Route: byBackend(func(string) (string, bool) { return "stream", true }),
		Backends: map[string]http.Handler{"stream": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "first")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush through the gateway: %v", err)
			}
			<-release
			fmt.Fprintln(w, "second")
		})},
	})
	resp, err := http.Get(f.url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n') // only arrives if the flush went through
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(r)
	if string(rest) != "second\n" {
		t.Fatalf("rest %q", rest)
	}
	if got := f.logs.requestLog(t, "/events")["bytes"]; got != float64(len("first\nsecond\n")) {
		t.Fatalf("logged bytes = %v", got)
	}
}

func TestBackendPanicIs500AndGatewayKeepsServing(t *testing.T) {
	f := serve(t, Config{
		Route: byBackend(table(nil, map[string]string{"/boom": "boom", "/": "web"})),
		Backends: map[string]http.Handler{
			"boom": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }),
			"web":  upstream(t, "web"),
		},
	})
	status, header, _, _ := getJSON(t, f.url+"/boom", nil)
	if status != http.StatusInternalServerError || header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("panicking backend → %d %s, want 500 problem+json", status, header.Get("Content-Type"))
	}
	if line := f.logs.requestLog(t, "/boom"); line["status"] != float64(500) {
		t.Fatalf("log line status %v", line["status"])
	}
	if status, _, got, _ := getJSON(t, f.url+"/ok", nil); status != http.StatusOK || got.Backend != "web" {
		t.Fatalf("after a panic: %d %+v", status, got)
	}
}

func TestRequestLogFields(t *testing.T) {
	f := serve(t, Config{
		Route: byBackend(func(string) (string, bool) { return "api", true }),
		Backends: map[string]http.Handler{"api": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "made")
		})},
	})
	resp, err := http.Post(f.url+"/api/signup", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line := f.logs.requestLog(t, "/api/signup")
	for k, want := range map[string]any{"method": "POST", "status": float64(201), "backend": "api", "bytes": float64(4), "level": "INFO"} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %v", k, line[k], want)
		}
	}
	if d, ok := line["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms = %v", line["duration_ms"])
	}
	if id, _ := line["trace_id"].(string); len(id) != 32 {
		t.Errorf("trace_id = %v", line["trace_id"])
	}
}

// The HTTPRoute's URLRewrite sets Host to the function's cluster-local name;
// the function must see that Host, and no X-Forwarded-Host pointing back at
// the browser's address (Istio does not add one).
func TestURLRewriteSetsHostAsOnACluster(t *testing.T) {
	type got struct{ Host, ForwardedHost, ForwardedProto, ForwardedFor string }
	heard := make(chan got, 1)
	fn := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		heard <- got{r.Host, r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-For")}
	})
	const clusterHost = "inbox.tidings.svc.cluster.local"
	f := serve(t, Config{
		Route: func(_, p string) (Rule, bool) {
			if p == "/api/notifications" {
				return Rule{Backend: "inbox", RewriteHost: clusterHost}, true
			}
			return Rule{Backend: "web"}, true
		},
		Backends: map[string]http.Handler{"inbox": fn, "web": fn},
	})

	resp, err := http.Get(f.url + "/api/notifications")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	g := <-heard
	if g.Host != clusterHost {
		t.Errorf("function saw Host %q, want %q", g.Host, clusterHost)
	}
	if g.ForwardedHost != "" {
		t.Errorf("function saw X-Forwarded-Host %q; the cluster's gateway sends none", g.ForwardedHost)
	}
	if g.ForwardedProto != "http" || g.ForwardedFor != "127.0.0.1" {
		t.Errorf("X-Forwarded-Proto %q, X-Forwarded-For %q; want http, 127.0.0.1", g.ForwardedProto, g.ForwardedFor)
	}

	// A rule without the filter leaves Host as the browser sent it.
	resp, err = http.Get(f.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if g := <-heard; g.Host != strings.TrimPrefix(f.url, "http://") {
		t.Errorf("unfiltered rule: Host %q, want the gateway's own %q", g.Host, strings.TrimPrefix(f.url, "http://"))
	}
}

// Traced, the gateway's span sits between the caller and the backend: the
// backend's parent is the gateway's span, in the caller's trace (or in a new
// one), with the caller's tracestate.
func TestTheGatewaysSpanIsTheBackendsParent(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	f := serve(t, Config{
		Route:    byBackend(func(string) (string, bool) { return "signup", true }),
		Backends: map[string]http.Handler{"signup": upstream(t, "signup")},
		Tracer:   sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)),
	})
	const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	_, _, got, _ := getJSON(t, f.url+"/api/signup", http.Header{"Traceparent": {incoming}, "Tracestate": {"x=1"}})
	_, _, fresh, _ := getJSON(t, f.url+"/api/signup", nil)
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name() != "GET signup" || s.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("span %q parent %v", s.Name(), s.Parent())
	}
	if want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + s.SpanContext().SpanID().String() + "-01"; got.Traceparent != want || got.Tracestate != "x=1" {
		t.Fatalf("backend saw %q (%q), want %q", got.Traceparent, got.Tracestate, want)
	}
	if spans[1].Parent().IsValid() {
		t.Fatalf("an untraced caller's request is not a root: parent %v", spans[1].Parent())
	}
	if id, _ := traceIDOf(fresh.Traceparent); id != spans[1].SpanContext().TraceID().String() || !strings.HasSuffix(fresh.Traceparent, spans[1].SpanContext().SpanID().String()+"-01") {
		t.Fatalf("untraced caller: backend saw %q, gateway span %v", fresh.Traceparent, spans[1].SpanContext())
	}
}
