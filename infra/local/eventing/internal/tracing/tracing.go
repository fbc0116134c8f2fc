// Package tracing is how the local data plane carries trace context through
// Kafka, as eventing-kafka-broker's does: the producer's span goes into
// each record as plain traceparent/tracestate headers
// (data-plane/core/src/main/java/dev/knative/eventing/kafka/broker/core/tracing/KafkaProducerRecordSetter.java)
// and the dispatcher continues it from there
// (.../core/tracing/KafkaConsumerRecordGetter.java). The event's own
// ce_traceparent header (the CloudEvents extension, written by the binding)
// is left alone: it names where the event was created, not the last hop.
package tracing

import (
	"context"

	"github.com/IBM/sarama"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tidings-dev/tidings/functions/telemetry"
)

// Tracer is tp's tracer for the named component, a no-op when tp is nil.
func Tracer(tp trace.TracerProvider, component string) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer("github.com/tidings-dev/tidings/infra/local/eventing/" + component)
}

// producerCarrier writes headers into a record about to be produced.
type producerCarrier struct{ m *sarama.ProducerMessage }

func (c producerCarrier) Get(string) string { return "" }
func (c producerCarrier) Keys() []string    { return nil }
func (c producerCarrier) Set(key, value string) {
	c.m.Headers = append(c.m.Headers, sarama.RecordHeader{Key: []byte(key), Value: []byte(value)})
}

// InjectRecord adds the span context in ctx to m's headers.
func InjectRecord(ctx context.Context, m *sarama.ProducerMessage) {
	telemetry.Propagator.Inject(ctx, producerCarrier{m})
}

// consumerCarrier reads the headers of a consumed record.
type consumerCarrier []*sarama.RecordHeader

func (c consumerCarrier) Get(key string) string {
	for _, h := range c {
		if h != nil && string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}
func (c consumerCarrier) Keys() []string     { return nil }
func (c consumerCarrier) Set(string, string) {}

// RecordContext returns ctx with the trace context of m's traceparent
// header as the parent of spans started from it; if m has none (a record
// an operator's tool wrote), fallback's (the event's extension).
func RecordContext(ctx context.Context, m *sarama.ConsumerMessage, fallback trace.SpanContext) context.Context {
	if out := telemetry.Propagator.Extract(ctx, consumerCarrier(m.Headers)); trace.SpanContextFromContext(out).IsValid() {
		return out
	}
	if fallback.IsValid() {
		return trace.ContextWithRemoteSpanContext(ctx, fallback)
	}
	return ctx
}
