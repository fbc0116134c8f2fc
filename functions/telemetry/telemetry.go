// Package telemetry is Tidings' OpenTelemetry tracing: one setup from the
// standard OTEL_* environment, W3C trace context over HTTP, on CloudEvents
// (the distributed-tracing extension) and on Kafka records. The function
// runtime (functions/internal/app) and the local Knative data plane
// (infra/local) both use it, so every process traces the same way.
//
// Without a collector (no OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) the tracer provider is a no-op: no
// exporter, no span is recorded, and trace context still passes through
// unchanged, so logs keep the caller's trace id.
package telemetry

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Propagator is W3C Trace Context, the format of the HTTP traceparent
// header, the CloudEvents traceparent extension and Knative's data plane.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Exporting reports whether the environment names a collector to export to
// (and does not turn the SDK or the trace exporter off).
func Exporting() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Provider is a tracer provider and how to stop it.
type Provider struct {
	trace.TracerProvider
	// Shutdown flushes the spans still buffered and stops the exporter.
	Shutdown func(context.Context) error
}

// NewProvider returns the tracer provider for service. When Exporting, it
// batches spans to OTLP over HTTP (protobuf), configured by the standard
// variables (endpoint, headers, timeout, OTEL_BSP_*), and samples as
// OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG say (default
// parentbased_always_on; parentbased_traceidratio with a ratio for a busy
// cluster). OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the
// resource. Nothing here connects: the exporter dials on its first batch,
// so a collector that is down never delays a cold start.
func NewProvider(service string) (Provider, error) {
	if !Exporting() {
		return Provider{TracerProvider: noop.NewTracerProvider(), Shutdown: func(context.Context) error { return nil }}, nil
	}
	if p := protocol(); p != "http/protobuf" {
		// Sending protobuf over HTTP to a gRPC port would fail on every
		// batch, far from here; say it once, at start.
		return Provider{}, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: only http/protobuf is supported (the collector's port 4318)", p)
	}
	return exporting(service)
}

// NewExportingProvider is NewProvider exporting to endpoint (a base URL, as
// OTEL_EXPORTER_OTLP_ENDPOINT) whatever the environment says: for the local
// stack's own components, whose environment is not their functions'.
func NewExportingProvider(service, endpoint string) (Provider, error) {
	return exporting(service, otlptracehttp.WithEndpointURL(strings.TrimSuffix(endpoint, "/")+"/v1/traces"))
}

func exporting(service string, opts ...otlptracehttp.Option) (Provider, error) {
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return Provider{}, err
	}
	res, err := resource.Merge(resource.NewSchemaless(semconv.ServiceName(service), semconv.ServiceNamespace("tidings")),
		resource.Environment())
	if err != nil {
		return Provider{}, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return Provider{TracerProvider: tp, Shutdown: tp.Shutdown}, nil
}

func protocol() string {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(name); p != "" {
			return p
		}
	}
	return "http/protobuf"
}

// Link returns a link to the span in ctx, or none: for a span that
// continues another trace (a resend, a replay) but was caused here.
func Link(ctx context.Context, parent trace.SpanContext) []trace.SpanStartOption {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || sc.TraceID() == parent.TraceID() {
		return nil
	}
	return []trace.SpanStartOption{trace.WithLinks(trace.Link{SpanContext: sc})}
}

// RecordError marks span failed with err, if err is not nil.
func RecordError(span trace.Span, err error) {
	if err == nil {
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}
