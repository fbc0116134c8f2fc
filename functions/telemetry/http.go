package telemetry

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// TraceResponseHeader carries the trace context of the server's span back
// to the client (W3C Trace Context Level 2, "traceresponse"), so a user's
// request can be found in the trace backend and in the logs by its trace id.
const TraceResponseHeader = "Traceresponse"

// Server traces each request h serves with a server span from tp, child of
// the caller's traceparent header or, for a binary-mode CloudEvent whose
// sender traced nothing, of the event's ce-traceparent; it answers with the
// span's traceresponse header. skip names paths that are not traced (probes).
func Server(tp trace.TracerProvider, h http.Handler, skip ...string) http.Handler {
	withHeader := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			w.Header().Set(TraceResponseHeader, traceparent(sc))
		}
		h.ServeHTTP(w, r)
	})
	traced := otelhttp.NewHandler(withHeader, "",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(eventFallback{}),
		// The route is not known at the start; Route names the span once it
		// is, and otelhttp's renaming after the handler (it sees only the
		// server's own catch-all pattern) keeps that name.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if route, _ := r.Context().Value(routeKey{}).(*string); route != nil && *route != "" {
				return *route
			}
			return r.Method
		}),
		otelhttp.WithFilter(func(r *http.Request) bool {
			for _, p := range skip {
				if r.URL.Path == p {
					return false
				}
			}
			return true
		}),
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traced.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, new(string))))
	})
}

// routeKey holds the route Route found for the request Server serves.
type routeKey struct{}

// Route names the server span in ctx after the route pattern that matched
// ("POST /api/signup"), as the HTTP semantic conventions ask ("{method}
// {http.route}"): a span name without ids, the same for every request of a
// route.
func Route(ctx context.Context, pattern string) {
	if pattern == "" || pattern == "/" {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	route := pattern
	if i := strings.IndexByte(route, ' '); i >= 0 {
		route = route[i+1:]
	}
	if i := strings.IndexByte(route, '/'); i > 0 { // a host in the pattern
		route = route[i:]
	}
	if held, _ := ctx.Value(routeKey{}).(*string); held != nil {
		*held = pattern
	}
	span.SetName(pattern)
	span.SetAttributes(semconv.HTTPRoute(route))
}

// InjectHTTP writes the span context in ctx into h as traceparent and
// tracestate headers.
func InjectHTTP(ctx context.Context, h http.Header) {
	Propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Client is an HTTP transport that makes a client span per request and
// sends its traceparent.
func Client(tp trace.TracerProvider, base http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(Propagator))
}

func traceparent(sc trace.SpanContext) string {
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

// eventFallback extracts the traceparent header, else the ce-traceparent
// of a binary-mode CloudEvent: a KafkaSource dispatcher that traces sends
// its own span as traceparent, one that does not (Knative without
// config-tracing) still delivers the event's, and the trace goes on.
type eventFallback struct{}

func (eventFallback) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	Propagator.Inject(ctx, c)
}
func (eventFallback) Fields() []string { return Propagator.Fields() }

func (eventFallback) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	if h, ok := c.(propagation.HeaderCarrier); ok && h.Get("traceparent") == "" && h.Get("ce-traceparent") != "" {
		c = propagation.MapCarrier{"traceparent": h.Get("ce-traceparent"), "tracestate": h.Get("ce-tracestate")}
	}
	return Propagator.Extract(ctx, c)
}
