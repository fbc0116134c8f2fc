package notification

import (
	"bytes"
	"context"
	"encoding/json"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/telemetry"
)

// The live channel carries an Item as JSON, preceded, when the publish was
// traced, by one line with the publisher's W3C traceparent: Redis pub/sub
// has no headers, and the push to each WebSocket continues the trace of the
// event that made the notification. Every message is a JSON object, which
// starts with '{', so a message without the line reads as it always did.

// EncodeLive is the live message for msg (an Item, or another JSON object
// the live channel carries), published from ctx.
func EncodeLive(ctx context.Context, msg any) ([]byte, error) {
	raw, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	c := propagation.MapCarrier{}
	telemetry.Propagator.Inject(ctx, c)
	if tp := c["traceparent"]; tp != "" {
		return append([]byte(tp+"\n"), raw...), nil
	}
	return raw, nil
}

// DecodeLive splits a live message into the trace context it was published
// in (invalid if none) and the JSON message a client is sent.
func DecodeLive(payload []byte) (trace.SpanContext, []byte) {
	line, rest, ok := bytes.Cut(payload, []byte("\n"))
	if !ok || len(line) == 0 || line[0] == '{' {
		return trace.SpanContext{}, payload
	}
	ctx := telemetry.Propagator.Extract(context.Background(), propagation.MapCarrier{"traceparent": string(line)})
	return trace.SpanContextFromContext(ctx), rest
}
