package backing

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/functions/telemetry"
)

func jaegerModuleDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "jaeger"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The version the stack names its cached binary after is the one the
// module builds: a bump of one without the other would reuse a stale build.
func TestTheJaegerModulePinsJaegerVersion(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(jaegerModuleDir(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`(?m)^(require)?\s*` + regexp.QuoteMeta(JaegerModule+" "+JaegerVersion) + `( // indirect)?$`)
	if !pinned.Match(mod) {
		t.Fatalf("infra/jaeger/go.mod does not require %s %s:\n%s", JaegerModule, JaegerVersion, mod)
	}
}

// A span exported as the functions export (functions/telemetry, OTLP over
// HTTP) can be read back from Jaeger's query API by its trace id.
func TestJaegerStoresWhatTheFunctionsExport(t *testing.T) {
	if testing.Short() && !JaegerBinaryBuilt() {
		t.Skip("-short: Jaeger is not built yet (the first build takes many minutes)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	j, err := StartJaeger(ctx, t.TempDir(), jaegerModuleDir(t), JaegerPorts{OTLP: freePort(t), Query: freePort(t), GRPC: freePort(t), Metrics: freePort(t)}, progressTo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Stop(context.Background())

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", j.OTLPEndpoint())
	p, err := telemetry.NewProvider("backing-test")
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer("t").Start(ctx, "stored span")
	traceID := span.SpanContext().TraceID().String()
	span.End()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	stored := func() bool {
		resp, err := http.Get(j.QueryURL() + "/api/traces/" + traceID)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var got struct {
			Data []struct {
				Spans []struct {
					OperationName string `json:"operationName"`
				} `json:"spans"`
				Processes map[string]struct {
					ServiceName string `json:"serviceName"`
				} `json:"processes"`
			} `json:"data"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&got) != nil || len(got.Data) != 1 || len(got.Data[0].Spans) != 1 {
			return false
		}
		for _, proc := range got.Data[0].Processes {
			return got.Data[0].Spans[0].OperationName == "stored span" && proc.ServiceName == "backing-test"
		}
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); !stored(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("trace %s not in Jaeger after 10 s", traceID)
		}
	}
	// and the span is counted on the Prometheus endpoint
	series := `traces_span_metrics_calls_total{`
	counted := func() bool {
		resp, err := http.Get(j.MetricsURL())
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, series) && strings.Contains(line, `service_name="backing-test"`) && strings.Contains(line, `span_name="stored span"`) && strings.HasSuffix(line, " 1") {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(20 * time.Second); !counted(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s...} 1 for the span on %s", series, j.MetricsURL())
		}
	}
}
