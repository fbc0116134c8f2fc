package telemetry

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/trace"
)

// The CloudEvents distributed-tracing extension (cloudevents/spec
// cloudevents/extensions/distributed-tracing.md): the trace context of the
// event's creation, carried with it through every hop and every resend.
//
// sdk-go's observability/opentelemetry/v2 module has the same carrier
// (client/cloudevents_carrier.go), but its InjectDistributedTracingExtension
// takes the event by value (a change is lost on an event without extensions),
// its extract logs a warning for every event without the extension, and the
// rest of it hooks the sdk-go client's receiver, which Tidings' consumers do
// not use (they are plain handlers under the runtime). These few lines over
// the propagator are all Tidings needs.
const (
	ExtTraceparent = "traceparent"
	ExtTracestate  = "tracestate"
)

// eventCarrier reads and writes the extension on one event.
type eventCarrier struct{ e *event.Event }

func (c eventCarrier) Get(key string) string {
	if key != ExtTraceparent && key != ExtTracestate {
		return ""
	}
	s, _ := c.e.Extensions()[key].(string)
	return s
}

func (c eventCarrier) Set(key, value string) {
	if key == ExtTraceparent || key == ExtTracestate {
		c.e.SetExtension(key, value)
	}
}

func (c eventCarrier) Keys() []string { return []string{ExtTraceparent, ExtTracestate} }

// InjectEvent sets e's traceparent (and tracestate) to the span in ctx,
// unless e has a traceparent already: the extension names where the event
// was created, and a resend does not move it.
func InjectEvent(ctx context.Context, e *event.Event) {
	c := eventCarrier{e}
	if c.Get(ExtTraceparent) != "" || !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	Propagator.Inject(ctx, c)
}

// EventContext returns the trace context e carries (invalid if none).
func EventContext(e *event.Event) trace.SpanContext {
	return trace.SpanContextFromContext(Propagator.Extract(context.Background(), eventCarrier{e}))
}

// ContextWithEvent is ctx (its deadline and values) with e's trace context
// as the parent of the spans started from it; ctx as it is when e has none.
func ContextWithEvent(ctx context.Context, e *event.Event) context.Context {
	sc := EventContext(e)
	if !sc.IsValid() {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}
