package telemetry_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/telemetry"
)

const (
	callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan  = "00f067aa0ba902b7"
	eventTrace  = "0af7651916cd43dd8448eb211c80319c"
	eventSpan   = "b7ad6b7169203331"
)

func recorder() (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)), rec
}

func TestWithoutACollectorNothingIsRecorded(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	p, err := telemetry.NewProvider("signup")
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer("t").Start(context.Background(), "x")
	if span.IsRecording() {
		t.Fatal("a span is recorded with no collector configured")
	}
	for _, off := range [][2]string{{"OTEL_SDK_DISABLED", "true"}, {"OTEL_TRACES_EXPORTER", "none"}} {
		t.Run(off[0], func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
			t.Setenv(off[0], off[1])
			if telemetry.Exporting() {
				t.Fatalf("%s=%s still exports", off[0], off[1])
			}
		})
	}
}

// A real OTLP/HTTP endpoint gets the spans, with the service name, once
// the provider is shut down (what app.Main does after draining).
func TestSpansReachTheCollectorOnShutdown(t *testing.T) {
	var batches atomic.Int32
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		body.Store(string(b))
		batches.Add(1)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	p, err := telemetry.NewProvider("welcome")
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer("t").Start(context.Background(), "smtp send")
	span.End()
	if batches.Load() != 0 {
		t.Fatal("exported before the batch was due: the export is not batched")
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if batches.Load() != 1 {
		t.Fatalf("%d batches reached the collector", batches.Load())
	}
	if b, _ := body.Load().(string); !strings.Contains(b, "welcome") || !strings.Contains(b, "smtp send") {
		t.Fatal("the batch lacks the service name or the span")
	}
}

func TestAGRPCCollectorIsRefusedAtStart(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if _, err := telemetry.NewProvider("signup"); err == nil || !strings.Contains(err.Error(), "http/protobuf") {
		t.Fatalf("err = %v", err)
	}
}

func serve(t *testing.T, h http.Header, path string) (*httptest.ResponseRecorder, *tracetest.SpanRecorder) {
	t.Helper()
	tp, rec := recorder()
	// As server.Serve has it: the server's own mux with a catch-all, whose
	// pattern "/" otelhttp sees after the handler.
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		telemetry.Route(r.Context(), "POST /api/signup")
	})
	srv := telemetry.Server(tp, mux, "/livez")
	r := httptest.NewRequest(http.MethodPost, path, nil)
	for k, v := range h {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	return w, rec
}

func TestTheServerSpanContinuesTheCallerOrTheEvent(t *testing.T) {
	cases := []struct {
		name       string
		header     http.Header
		wantParent string // trace-span; "" for a new root
	}{
		{"traceparent", http.Header{"Traceparent": {"00-" + callerTrace + "-" + callerSpan + "-01"}}, callerTrace + "-" + callerSpan},
		{"traceparent wins over the event's", http.Header{
			"Traceparent":    {"00-" + callerTrace + "-" + callerSpan + "-01"},
			"Ce-Traceparent": {"00-" + eventTrace + "-" + eventSpan + "-01"}}, callerTrace + "-" + callerSpan},
		{"only the event's", http.Header{"Ce-Traceparent": {"00-" + eventTrace + "-" + eventSpan + "-01"}}, eventTrace + "-" + eventSpan},
		{"malformed", http.Header{"Traceparent": {"00-nothex-" + callerSpan + "-01"}}, ""},
		{"none", http.Header{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, rec := serve(t, c.header, "/api/signup")
			spans := rec.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans", len(spans))
			}
			s := spans[0]
			got := ""
			if s.Parent().IsValid() {
				got = s.Parent().TraceID().String() + "-" + s.Parent().SpanID().String()
			}
			if got != c.wantParent {
				t.Fatalf("parent %q, want %q", got, c.wantParent)
			}
			if s.Name() != "POST /api/signup" || s.SpanKind() != trace.SpanKindServer {
				t.Fatalf("span %q kind %v", s.Name(), s.SpanKind())
			}
			want := "00-" + s.SpanContext().TraceID().String() + "-" + s.SpanContext().SpanID().String() + "-01"
			if tr := w.Header().Get("Traceresponse"); tr != want {
				t.Fatalf("traceresponse %q, want %q", tr, want)
			}
		})
	}
}

func TestProbesAreNotTraced(t *testing.T) {
	w, rec := serve(t, http.Header{}, "/livez")
	if n := len(rec.Ended()); n != 0 || w.Header().Get("Traceresponse") != "" {
		t.Fatalf("%d spans for a probe", n)
	}
}

func TestAnEventKeepsTheTraceItWasCreatedIn(t *testing.T) {
	tp, _ := recorder()
	ctx, span := tp.Tracer("t").Start(context.Background(), "outbox write")
	defer span.End()
	e := event.New() // no extensions yet
	telemetry.InjectEvent(ctx, &e)
	sc := telemetry.EventContext(&e)
	if sc.TraceID() != span.SpanContext().TraceID() || sc.SpanID() != span.SpanContext().SpanID() || !sc.IsSampled() {
		t.Fatalf("event carries %v, want the write span %v", sc, span.SpanContext())
	}
	// A later hop (a resend) does not move it.
	later, other := tp.Tracer("t").Start(context.Background(), "relay")
	defer other.End()
	telemetry.InjectEvent(later, &e)
	if telemetry.EventContext(&e).SpanID() != span.SpanContext().SpanID() {
		t.Fatal("a resend replaced the event's trace context")
	}
	// A send continues it, keeping the sender's deadline.
	dctx, cancel := context.WithCancel(later)
	cancel()
	cont := telemetry.ContextWithEvent(dctx, &e)
	if trace.SpanContextFromContext(cont).SpanID() != span.SpanContext().SpanID() || cont.Err() == nil {
		t.Fatal("ContextWithEvent lost the event's parent or the caller's cancellation")
	}
	if opts := telemetry.Link(later, sc); len(opts) != 1 {
		t.Fatal("a send from another trace is not linked to it")
	}
	// An event from outside with garbage in the extension has no parent.
	bad := event.New()
	bad.SetExtension("traceparent", "00-zz-yy-01")
	if telemetry.EventContext(&bad).IsValid() {
		t.Fatal("a malformed traceparent extension was accepted")
	}
}

func TestLogLinesNameTheirSpan(t *testing.T) {
	tp, _ := recorder()
	var buf strings.Builder
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil))).With("service", "welcome")
	ctx, span := tp.Tracer("t").Start(context.Background(), "smtp send")
	defer span.End()
	log.InfoContext(ctx, "sent")
	log.Info("no context")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var first, second map[string]any
	if json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &second) != nil {
		t.Fatalf("not JSON lines: %q", lines)
	}
	if first["trace_id"] != span.SpanContext().TraceID().String() || first["span_id"] != span.SpanContext().SpanID().String() || first["service"] != "welcome" {
		t.Fatalf("line with a span: %v", first)
	}
	if _, ok := second["trace_id"]; ok {
		t.Fatalf("line without a span has a trace id: %v", second)
	}
}
