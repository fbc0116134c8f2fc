package kafkasink

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/infra/local/eventing/internal/kafkatest"
)

// The ingress continues the producer's trace (its traceparent header) in a
// server span and a send span, and the record carries the send span as its
// traceparent header; the event's own ce_traceparent is kept as it came.
func TestAProducedRecordCarriesTheSendSpan(t *testing.T) {
	b := kafkatest.Start(t, 1, "tidings.users")
	rec := tracetest.NewSpanRecorder()
	in, err := NewIngress(Config{Brokers: b.Brokers(), Logger: quietLogger(), ProduceTimeout: 3 * time.Second,
		Tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	if err := in.Register("tidings", "users", "tidings.users", "binary"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)

	const hop = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const creation = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if code, body := do(t, binaryRequest(t, srv.URL+"/tidings/users", "evt-t", map[string]string{"Traceparent": hop, "Ce-Traceparent": creation})); code != http.StatusAccepted {
		t.Fatalf("status %d (%s)", code, body)
	}
	r := b.Read("tidings.users", 1, 10*time.Second)[0]

	var server, send sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "POST /tidings/users":
			server = s
		case "send tidings.users":
			send = s
		}
	}
	if server == nil || send == nil {
		t.Fatalf("spans %v", rec.Ended())
	}
	if server.Parent().SpanID().String() != "00f067aa0ba902b7" || send.Parent().SpanID() != server.SpanContext().SpanID() || send.SpanKind() != trace.SpanKindProducer {
		t.Fatalf("server parent %v, send parent %v", server.Parent(), send.Parent())
	}
	want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + send.SpanContext().SpanID().String() + "-01"
	if got, _ := kafkatest.Header(r, "traceparent"); got != want {
		t.Fatalf("record traceparent %q, want the send span %q", got, want)
	}
	if got, _ := kafkatest.Header(r, "ce_traceparent"); got != creation {
		t.Fatalf("ce_traceparent %q, want the event's %q", got, creation)
	}
}
