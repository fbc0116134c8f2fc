package consume_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/consume"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/telemetry"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// One trace from the event a consumer got to the event it emitted and that
// event's send: server span → process span → outbox write → outbox send,
// the write's context on the emitted event (ce-traceparent) and the send's
// on the sink's request (traceparent).
func TestAConsumerContinuesTheEventsTraceIntoWhatItEmits(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	sink := apptest.NewSink(t)
	a := apptest.New(t, "consume-trace-test", app.Needs{Sink: true}, sink.URL)
	h := telemetry.Server(tp, consume.Handler("tracer", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(ctx context.Context, tx *outbox.Tx, e event.Event) error {
		return tx.Emit(ctx, signedUp(t))
	}))
	in := signedUp(t)
	const producer = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	in.SetExtension("traceparent", producer) // binary mode: ce-traceparent, no traceparent header
	if rec := apptest.Deliver(t, h, in); rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	a.Outbox.Wait()
	testenv.Eventually(t, 5*time.Second, "the emitted event at the sink", func() bool { return len(sink.Events()) == 1 })

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = s
	}
	chain := []string{"POST", "process " + events.TypeUserSignedUp, "outbox write", "outbox send"}
	parent := trace.SpanContextFromContext(telemetry.ContextWithEvent(context.Background(), &in))
	for _, name := range chain {
		s, ok := byName[name]
		if !ok {
			t.Fatalf("no %q span; got %v", name, names(rec.Ended()))
		}
		if s.Parent().SpanID() != parent.SpanID() || s.SpanContext().TraceID() != parent.TraceID() {
			t.Fatalf("%q: parent %v, want %v", name, s.Parent(), parent)
		}
		parent = s.SpanContext()
	}
	out := sink.Events()[0]
	if got := telemetry.EventContext(&out); got.SpanID() != byName["outbox write"].SpanContext().SpanID() {
		t.Fatalf("emitted event's traceparent names span %v, want the outbox write", got.SpanID())
	}
	wantHop := "00-" + parent.TraceID().String() + "-" + parent.SpanID().String() + "-01"
	if got := sink.Headers()[0].Get("Traceparent"); got != wantHop {
		t.Fatalf("the sink got traceparent %q, want the send span %q", got, wantHop)
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}
