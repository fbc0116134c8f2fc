package stack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidings-dev/tidings/infra/local/stack"
)

// The status page shows what kn and a dashboard would: every Service with
// its state and cold starts, every KafkaSource with its counts and lag, and
// the outbox's backlog, as JSON and as HTML.
func statusPage(t *testing.T, w *world) {
	resp, err := http.Get(w.GatewayURL + stack.StatusPath + "?format=json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st stack.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status JSON: %d %v", resp.StatusCode, err)
	}
	services := map[string]stack.ServiceStatus{}
	for _, s := range st.Services {
		services[s.Name] = s
	}
	for _, svc := range w.Topology().Services {
		s, ok := services[svc.Name]
		if !ok || (s.State != "running" && s.State != "stopped" && s.State != "starting") {
			t.Errorf("service %s: %+v", svc.Name, s)
		}
	}
	// The stories before this one signed people up: signup cold-started,
	// and welcome's source delivered.
	if s := services["signup"]; s.ColdStarts < 1 || s.LastColdStart <= 0 {
		t.Errorf("signup %+v, want a cold start with its time", s)
	}
	sources := map[string]stack.SourceStatus{}
	for _, s := range st.Sources {
		sources[s.Name] = s
	}
	if len(sources) != len(w.Topology().KafkaSources) {
		t.Errorf("%d sources on the page, %d in the manifests", len(sources), len(w.Topology().KafkaSources))
	}
	if s := sources["welcome"]; s.Delivered < 1 || s.LagError != "" || s.Lag < 0 {
		t.Errorf("welcome source %+v, want deliveries and a lag", s)
	}
	if st.Outbox.Error != "" || st.Outbox.Unsent < 0 {
		t.Errorf("outbox %+v", st.Outbox)
	}

	resp, err = http.Get(w.GatewayURL + stack.StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(html), "<td>redrive-notify</td>") || !strings.Contains(string(html), "<td>welcome</td>") {
		t.Fatalf("status HTML: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), html)
	}
	if resp, err := http.Post(w.GatewayURL+stack.StatusPath, "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST status: %v %v", resp, err)
	}
}
