// Package gateway is the local stand-in for the cluster's Gateway API
// implementation: one http.Handler on :8080 that sends each request to the
// backend (a serving.Service) its HTTPRoute rule names, after applying the
// rule's filters, so a function sees the request it will see on a cluster.
// It has no routes of its own; the rules come from
// infra/cluster/http-route.yaml through Config.Route.
package gateway

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tidings-dev/tidings/functions/problem"
	"github.com/tidings-dev/tidings/functions/telemetry"
	"github.com/tidings-dev/tidings/knative/topology"
)

// Rule is what the HTTPRoute rule matching a request says to do with it.
type Rule struct {
	Backend string
	// RewriteHost, when set, replaces the Host header (the URLRewrite
	// filter's hostname: kubernetes-sigs/gateway-api apis/v1/httproute_types.go,
	// HTTPURLRewriteFilter). Envoy-based gateways add no X-Forwarded-Host for
	// it (append_x_forwarded_host defaults to false in envoyproxy/envoy
	// api/envoy/config/route/v3/route_components.proto), so neither do we.
	RewriteHost string
	// Retry is the rule's retry policy, nil for none (retry.go).
	Retry *topology.Retry
}

// Config wires the gateway.
type Config struct {
	// Route finds the HTTPRoute rule for a request's method and path. ok is
	// false when no rule matches.
	Route func(method, path string) (rule Rule, ok bool)
	// Backends holds a handler per backend name.
	Backends map[string]http.Handler
	// Fallback serves paths no rule matches; nil means 404.
	Fallback http.Handler
	Logger   *slog.Logger
	// Tracer makes the gateway's span for each request (a no-op when nil).
	Tracer trace.TracerProvider
}

// FallbackBackend is the backend name logged for requests served by
// Config.Fallback.
const FallbackBackend = "(fallback)"

// Gateway routes requests to backends by path.
type Gateway struct {
	route    func(method, path string) (Rule, bool)
	backends map[string]http.Handler
	fallback http.Handler
	log      *slog.Logger
	tracer   trace.Tracer
}

// New returns a Gateway. Backends is copied: later changes to the map are
// not seen.
func New(cfg Config) *Gateway {
	g := &Gateway{
		route:    cfg.Route,
		backends: maps.Clone(cfg.Backends),
		fallback: cfg.Fallback,
		log:      cfg.Logger,
	}
	if g.route == nil {
		g.route = func(string, string) (Rule, bool) { return Rule{}, false }
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	tp := cfg.Tracer
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	g.tracer = tp.Tracer("github.com/tidings-dev/tidings/infra/local/gateway")
	return g
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{w: w}
	var backend, traceID string
	var span trace.Span = noop.Span{}
	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			g.log.Error("backend panicked", "backend", backend, "path", r.URL.Path, "panic", fmt.Sprint(p))
			if !rec.wroteHeader {
				problem.Platform(rec, http.StatusInternalServerError, "the backend failed")
			}
		}
		g.logRequest(r, rec, backend, traceID, time.Since(start))
		endSpan(span, r.Method, backend, rec.status())
		if p == http.ErrAbortHandler {
			panic(p) // let net/http abort the connection mid-response
		}
	}()

	if !strings.HasPrefix(r.URL.Path, "/") {
		problem.Platform(rec, http.StatusBadRequest, "request target must be an absolute path")
		return
	}
	r = r.Clone(r.Context())
	normalizePath(r)
	// The span first: a caller without a traceparent gets a root span, not
	// a child of a parent nobody recorded.
	r, span = g.startSpan(r)
	traceID = ensureTraceparent(r.Header)

	rule, ok := g.route(r.Method, r.URL.Path)
	var h http.Handler
	switch {
	case ok:
		backend = rule.Backend
		h = g.backends[rule.Backend]
		if h == nil {
			problem.Platform(rec, http.StatusBadGateway, fmt.Sprintf("the route for %s names backend %q, which is not running", r.URL.Path, rule.Backend))
			return
		}
		applyFilters(r, rule)
		if retries(rule, r) {
			g.serveWithRetry(rec, r, h, rule.Retry, backend)
			return
		}
	case g.fallback != nil:
		backend = FallbackBackend
		h = g.fallback
	default:
		problem.Platform(rec, http.StatusNotFound, fmt.Sprintf("no route for %s", r.URL.Path))
		return
	}
	h.ServeHTTP(rec, r)
}

// startSpan starts the gateway's server span, child of the request's
// traceparent, and hands the backend the span's own, as a tracing Envoy
// does (and as it does in a cluster with Knative's config-tracing on).
func (g *Gateway) startSpan(r *http.Request) (*http.Request, trace.Span) {
	ctx := telemetry.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := g.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
	if !span.IsRecording() {
		return r, span
	}
	r.Header.Del("tracestate") // a malformed traceparent's is meaningless; a valid one's is in the span

	telemetry.InjectHTTP(ctx, r.Header)
	return r.WithContext(ctx), span
}

// endSpan names the span after the backend that served the request.
func endSpan(span trace.Span, method, backend string, status int) {
	if !span.IsRecording() {
		return
	}
	if backend != "" {
		span.SetName(method + " " + backend)
		span.SetAttributes(attribute.String("tidings.backend", backend))
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

func (g *Gateway) logRequest(r *http.Request, rec *recorder, backend, traceID string, d time.Duration) {
	level := slog.LevelInfo
	if rec.status() >= 500 {
		level = slog.LevelWarn
	}
	g.log.Log(r.Context(), level, "http request",
		"method", r.Method,
		"path", r.URL.Path,
		"status", rec.status(),
		"duration_ms", float64(d.Microseconds())/1000,
		"bytes", rec.bytes,
		"backend", backend,
		"trace_id", traceID,
	)
}

// applyFilters changes the request as the rule's filters say, and adds the
// X-Forwarded-For and X-Forwarded-Proto an Envoy-based gateway sets.
func applyFilters(r *http.Request, rule Rule) {
	if rule.RewriteHost != "" {
		r.Host = rule.RewriteHost
	}
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		r.Header.Set("X-Forwarded-For", ip)
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	r.Header.Set("X-Forwarded-Proto", proto)
}

// normalizePath resolves "." and ".." and repeated slashes before routing,
// as Envoy-based gateways do, so a route cannot be bypassed with
// "/api/../x". A trailing slash is kept.
func normalizePath(r *http.Request) {
	p := r.URL.Path
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	if clean != p {
		r.URL.Path = clean
		r.URL.RawPath = ""
	}
}

// ensureTraceparent keeps a valid W3C traceparent header or replaces a
// missing or malformed one with a fresh trace, and returns the trace id.
func ensureTraceparent(h http.Header) string {
	if id, ok := traceIDOf(h.Get("traceparent")); ok {
		return id
	}
	var b [24]byte
	rand.Read(b[:])
	traceID := hex.EncodeToString(b[:16])
	h.Set("traceparent", "00-"+traceID+"-"+hex.EncodeToString(b[16:])+"-01")
	h.Del("tracestate") // meaningless without its traceparent (W3C Trace Context §3.3)
	return traceID
}

// traceIDOf parses a traceparent header (W3C Trace Context level 1).
func traceIDOf(tp string) (string, bool) {
	if len(tp) < 55 || (len(tp) > 55 && tp[55] != '-') {
		return "", false
	}
	version, traceID, parentID, flags := tp[0:2], tp[3:35], tp[36:52], tp[53:55]
	if tp[2] != '-' || tp[35] != '-' || tp[52] != '-' {
		return "", false
	}
	if !isLowerHex(version) || version == "ff" || (version == "00" && len(tp) != 55) {
		return "", false
	}
	if !isLowerHex(traceID) || traceID == strings.Repeat("0", 32) {
		return "", false
	}
	if !isLowerHex(parentID) || parentID == strings.Repeat("0", 16) || !isLowerHex(flags) {
		return "", false
	}
	return traceID, true
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// recorder notes the status and size of a response for the log line while
// passing Flush and Hijack through (streaming, WebSockets).
type recorder struct {
	w           http.ResponseWriter
	code        int
	wroteHeader bool
	hijacked    bool
	bytes       int64
}

func (r *recorder) Header() http.Header { return r.w.Header() }

func (r *recorder) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		r.w.WriteHeader(code) // informational (103 Early Hints): not the final status
		return
	}
	if !r.wroteHeader {
		r.code = code
		r.wroteHeader = true
	}
	r.w.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.code = http.StatusOK
		r.wroteHeader = true
	}
	n, err := r.w.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	http.NewResponseController(r.w).Flush()
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.w).Hijack()
	if err == nil {
		r.hijacked = true
		if !r.wroteHeader {
			r.code = http.StatusSwitchingProtocols // the backend writes the 101 on the raw conn
			r.wroteHeader = true
		}
	}
	return conn, rw, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.w }

func (r *recorder) status() int {
	if !r.wroteHeader {
		return http.StatusOK // net/http sends 200 for an empty response
	}
	return r.code
}
