package backing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// The Jaeger v2 server the local stack sends traces to. It is pinned in its
// own module, infra/jaeger (go.mod: JaegerModule at JaegerVersion), because
// its go.mod replaces a dependency (go install pkg@version refuses that) and
// because its dependency graph, the whole OpenTelemetry Collector, must stay
// out of the product's go.mod.
const (
	JaegerPackage = "github.com/jaegertracing/jaeger/cmd/jaeger"
	JaegerModule  = "github.com/jaegertracing/jaeger"
	JaegerVersion = "v1.75.0"
)

// JaegerPorts are Jaeger's listeners, all on loopback.
type JaegerPorts struct {
	OTLP    int // OTLP over HTTP, what the functions export to (4318)
	Query   int // the UI and its HTTP API, /api/traces (16686)
	GRPC    int // the query service's gRPC API (16685)
	Metrics int // Prometheus metrics derived from the spans, /metrics (8889)
}

// Jaeger is a Jaeger v2 all-in-one run as a child process, storing traces
// in memory (they go when it stops).
type Jaeger struct {
	ports JaegerPorts
	proc  *child
}

// StartJaeger runs Jaeger with its config and log under dataDir, building
// the binary from moduleDir (infra/jaeger) on first use (see JaegerBinary),
// and waits until its query API answers.
func StartJaeger(ctx context.Context, dataDir, moduleDir string, ports JaegerPorts, progress Progress) (*Jaeger, error) {
	for name, port := range map[string]int{"jaeger otlp": ports.OTLP, "jaeger query": ports.Query, "jaeger grpc": ports.GRPC, "jaeger metrics": ports.Metrics} {
		if err := ensurePortFree(name, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
			return nil, err
		}
	}
	bin, err := JaegerBinary(ctx, moduleDir, progress)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("jaeger: %w", err)
	}
	config := filepath.Join(dataDir, "config.yaml")
	if err := os.WriteFile(config, []byte(jaegerConfig(ports)), 0o644); err != nil {
		return nil, fmt.Errorf("jaeger: %w", err)
	}
	progress.say(fmt.Sprintf("jaeger: starting (OTLP 127.0.0.1:%d, UI 127.0.0.1:%d)", ports.OTLP, ports.Query))
	proc, err := startChild(childSpec{
		name:       "jaeger",
		path:       bin,
		args:       []string{"--config", "file:" + config},
		dir:        dataDir,
		logPath:    filepath.Join(dataDir, "jaeger.log"),
		stopSignal: syscall.SIGTERM,
	})
	if err != nil {
		return nil, err
	}
	j := &Jaeger{ports: ports, proc: proc}
	if err := proc.waitReady(ctx, 60*time.Second, answers200(j.QueryURL()+"/api/services")); err != nil {
		return nil, err
	}
	progress.say("jaeger: ready, UI and API on " + j.QueryURL())
	return j, nil
}

// jaegerConfig is Jaeger's all-in-one configuration
// (jaegertracing/jaeger cmd/jaeger/internal/all-in-one.yaml) cut to what the
// stack uses: OTLP over HTTP in, memory storage, the query UI and API, and
// the spanmetrics connector of its SPM setup (cmd/jaeger/config-spm.yaml)
// with a Prometheus endpoint: calls, errors and latency per service and span
// name (a route, "process <topic>", ...) and per outcome. No self-metrics
// endpoint and no other receivers, so only the four ports listen.
func jaegerConfig(p JaegerPorts) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter, spanmetrics]
    metrics/spanmetrics:
      receivers: [spanmetrics]
      exporters: [prometheus]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memory_store
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
connectors:
  spanmetrics:
    metrics_flush_interval: 5s
    dimensions:
      - name: http.response.status_code
      - name: tidings.delivery.outcome
      - name: tidings.consume.outcome
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
  prometheus:
    endpoint: 127.0.0.1:%d
`, p.Query, p.GRPC, p.OTLP, p.Metrics)
}

// OTLPEndpoint is the base URL to give OTEL_EXPORTER_OTLP_ENDPOINT.
func (j *Jaeger) OTLPEndpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", j.ports.OTLP) }

// QueryURL serves the UI and the HTTP API (/api/traces/<id>,
// /api/traces?service=...).
func (j *Jaeger) QueryURL() string { return fmt.Sprintf("http://127.0.0.1:%d", j.ports.Query) }

// MetricsURL is the Prometheus endpoint of the span metrics.
func (j *Jaeger) MetricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", j.ports.Metrics)
}

// Stop asks Jaeger to shut down and waits.
func (j *Jaeger) Stop(ctx context.Context) error { return j.proc.stop(ctx) }

// JaegerBinary returns the path of a Jaeger binary: $TIDINGS_JAEGER_BIN if
// set (it must exist), else the cached build
// <user cache dir>/tidings/bin/jaeger-<JaegerVersion>, else it builds the
// version infra/jaeger/go.mod pins into that cache (once per machine; about
// 20 minutes on two busy cores, see infra/local/cmd/bench/results).
func JaegerBinary(ctx context.Context, moduleDir string, progress Progress) (string, error) {
	return jaegerBinary(moduleDir).path(ctx, progress)
}

// JaegerBinaryBuilt reports whether JaegerBinary would answer without
// building.
func JaegerBinaryBuilt() bool { return jaegerBinary("").built() }

func jaegerBinary(moduleDir string) cachedBinary {
	return cachedBinary{
		name:   "jaeger",
		envVar: "TIDINGS_JAEGER_BIN",
		file:   "jaeger-" + JaegerVersion,
		spec: goInstallSpec{pkg: JaegerPackage, moduleDir: moduleDir, binName: "jaeger",
			label: "building Jaeger " + JaegerVersion + " (first run only, ~20 min)…"},
	}
}
