package kafkasource

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/IBM/sarama"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const (
	producerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	producerSpan  = "00f067aa0ba902b7"
	creationTrace = "0af7651916cd43dd8448eb211c80319c"
	creationSpan  = "b7ad6b7169203331"
)

func tracedDispatcher(t *testing.T, subscriber string, d Delivery) (*Dispatcher, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	disp := offlineDispatcher(t, subscriber, d)
	disp.tracer = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test")
	return disp, rec
}

func withHeaders(m *sarama.ConsumerMessage, kv ...string) *sarama.ConsumerMessage {
	for i := 0; i < len(kv); i += 2 {
		m.Headers = append(m.Headers, &sarama.RecordHeader{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return m
}

func spanNamed(t *testing.T, rec *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	t.Helper()
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// A record's span continues the producer's (the record's traceparent
// header), every attempt is its child, and the subscriber hears the last
// attempt's traceparent while the event keeps its own ce-traceparent.
func TestADeliveryContinuesTheRecordsTraceThroughEveryAttempt(t *testing.T) {
	sub := newEndpoint(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	d, rec := tracedDispatcher(t, sub.srv.URL, Delivery{Retry: 3, BackoffDelay: time.Millisecond})
	m := withHeaders(binaryRecord("e-traced"),
		"traceparent", "00-"+producerTrace+"-"+producerSpan+"-01",
		"ce_traceparent", "00-"+creationTrace+"-"+creationSpan+"-01")
	if !d.dispatch(context.Background(), m) {
		t.Fatal("not finished")
	}
	process := spanNamed(t, rec, "process tidings.users")
	if len(process) != 1 {
		t.Fatalf("%d record spans", len(process))
	}
	p := process[0]
	if p.Parent().TraceID().String() != producerTrace || p.Parent().SpanID().String() != producerSpan || p.SpanKind() != trace.SpanKindConsumer {
		t.Fatalf("record span parent %v kind %v, want the producer's span", p.Parent(), p.SpanKind())
	}
	if attr(p, "tidings.delivery.outcome") != "delivered" || attr(p, "tidings.delivery.attempts") != "3" {
		t.Fatalf("outcome %q after %q attempts", attr(p, "tidings.delivery.outcome"), attr(p, "tidings.delivery.attempts"))
	}
	retries := 0
	for _, e := range p.Events() {
		if e.Name == "retry" {
			retries++
		}
	}
	attempts := spanNamed(t, rec, "POST")
	if retries != 2 || len(attempts) != 3 {
		t.Fatalf("%d retry events and %d attempt spans, want 2 and 3", retries, len(attempts))
	}
	for i, a := range attempts {
		if a.Parent().SpanID() != p.SpanContext().SpanID() {
			t.Fatalf("attempt %d is not a child of the record span", i)
		}
		if got := sub.got()[i].header.Get("Traceparent"); got != "00-"+producerTrace+"-"+a.SpanContext().SpanID().String()+"-01" {
			t.Fatalf("attempt %d: subscriber got traceparent %q", i, got)
		}
		if got := sub.got()[i].header.Get("Ce-Traceparent"); got != "00-"+creationTrace+"-"+creationSpan+"-01" {
			t.Fatalf("attempt %d: the event's own traceparent became %q", i, got)
		}
	}
	if attr(attempts[2], "http.request.resend_count") != "2" || attr(attempts[2], "http.response.status_code") != "200" {
		t.Fatalf("last attempt: resend_count %q status %q", attr(attempts[2], "http.request.resend_count"), attr(attempts[2], "http.response.status_code"))
	}
}

// A record without a traceparent header (written by an operator's tool)
// continues the event's own trace; a dead-lettered one shows it.
func TestADeadLetteredRecordShowsEveryAttemptInTheEventsTrace(t *testing.T) {
	sub := newEndpoint(t, status(http.StatusInternalServerError))
	dls := newEndpoint(t, status(http.StatusAccepted))
	d, rec := tracedDispatcher(t, sub.srv.URL, Delivery{Retry: 1, BackoffDelay: time.Millisecond, DeadLetterURL: dls.srv.URL})
	d.dispatch(context.Background(), withHeaders(binaryRecord("e-dead"), "ce_traceparent", "00-"+creationTrace+"-"+creationSpan+"-01"))

	p := spanNamed(t, rec, "process tidings.users")[0]
	if p.Parent().TraceID().String() != creationTrace || p.Parent().SpanID().String() != creationSpan {
		t.Fatalf("record span parent %v, want the event's extension", p.Parent())
	}
	if attr(p, "tidings.delivery.outcome") != "dead-lettered" || p.Status().Description == "" {
		t.Fatalf("outcome %q status %v", attr(p, "tidings.delivery.outcome"), p.Status())
	}
	var dead bool
	for _, e := range p.Events() {
		dead = dead || e.Name == "dead-letter"
	}
	// two attempts to the subscriber, one to the dead-letter sink
	if n := len(spanNamed(t, rec, "POST")); !dead || n != 3 {
		t.Fatalf("dead-letter event %v, %d attempt spans", dead, n)
	}
	if dls.got()[0].header.Get("Traceparent") == "" {
		t.Fatal("the dead-letter sink got no traceparent: the dead letter leaves the trace")
	}
}
