package stack

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/infra/local/eventing/oidc"
	"github.com/tidings-dev/tidings/knative/topology"
)

// stackFor is a Stack with the shipped manifests and made-up addresses, for
// the parts of Up that only compute.
func stackFor(t *testing.T) *Stack {
	t.Helper()
	topo, err := topology.Load(filepath.Join("..", "..", "..", "knative"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{
		topo:       topo,
		backing:    &Backing{KafkaBrokers: []string{"127.0.0.1:9092"}},
		urls:       map[string]string{},
		IngressURL: "http://127.0.0.1:8081",
		PublicURL:  "http://localhost:18080",
	}
	for _, svc := range topo.Services {
		s.urls[svc.Name] = "http://127.0.0.1:1/" + svc.Name
	}
	return s
}

func TestServiceEnvAsOnACluster(t *testing.T) {
	s := stackFor(t)
	for _, svc := range s.topo.Services {
		env, err := s.serviceEnv(svc)
		if err != nil {
			t.Fatalf("%s: %v", svc.Name, err)
		}
		if env["PUBLIC_URL"] != "http://localhost:18080" {
			t.Errorf("%s: PUBLIC_URL = %q, want the gateway's browser-facing address", svc.Name, env["PUBLIC_URL"])
		}
		_, hasOverrides := env["K_CE_OVERRIDES"]
		if b := s.topo.SinkBindingFor(svc.Name); b != nil {
			if env["K_SINK"] != s.IngressURL+"/tidings/"+b.Sink.Ref.Name {
				t.Errorf("%s: K_SINK = %q", svc.Name, env["K_SINK"])
			}
			// A SinkBinding always sets K_CE_OVERRIDES, empty without ceOverrides.
			if !hasOverrides || env["K_CE_OVERRIDES"] != "" {
				t.Errorf("%s: K_CE_OVERRIDES = %q (set %v), want set and empty", svc.Name, env["K_CE_OVERRIDES"], hasOverrides)
			}
		} else if hasOverrides || env["K_SINK"] != "" {
			t.Errorf("%s: no SinkBinding, yet K_SINK %q / K_CE_OVERRIDES set %v", svc.Name, env["K_SINK"], hasOverrides)
		}
	}

	s.topo.SinkBindingFor("signup").CEOverrides = map[string]string{"origin": "signup"}
	env, err := s.serviceEnv(s.topo.Service("signup"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"extensions":{"origin":"signup"}}`; env["K_CE_OVERRIDES"] != want {
		t.Errorf("K_CE_OVERRIDES = %q, want %q", env["K_CE_OVERRIDES"], want)
	}
}

func TestIdleTimeoutIsKnativesScaleToZeroDelay(t *testing.T) {
	s := stackFor(t)
	for _, c := range []struct {
		window, retention, want time.Duration
	}{
		{60 * time.Second, 0, 90 * time.Second},                // window + 30 s grace
		{60 * time.Second, 5 * time.Minute, 6 * time.Minute},   // window + retention
		{10 * time.Second, 20 * time.Second, 40 * time.Second}, // grace beats a short retention
		{6 * time.Second, 2 * time.Minute, 2*time.Minute + 6*time.Second},
	} {
		svc := &topology.Service{Window: c.window, ScaleToZeroRetention: c.retention}
		if got := s.idleTimeout(svc); got != c.want {
			t.Errorf("window %s, retention %s: idle %s, want %s", c.window, c.retention, got, c.want)
		}
	}
	s.opts.IdleTimeout = 5 * time.Second // --idle
	if got := s.idleTimeout(s.topo.Service("signup")); got != 5*time.Second {
		t.Errorf("with --idle 5s: %s", got)
	}
}

// Event sources call a Service by its cluster-local name; so does the stack.
func TestServiceAddressCarriesTheClusterLocalHost(t *testing.T) {
	var host string
	h := clusterLocal(&topology.Service{Name: "welcome", Namespace: "tidings"}, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		host = r.Host
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4242/", nil))
	if host != "welcome.tidings.svc.cluster.local" {
		t.Fatalf("Host %q, want welcome.tidings.svc.cluster.local", host)
	}
}

// Each producer gets the token its SinkBinding would project, and the relay
// one token per sink under the directory its OIDC_TOKEN_DIR names; the
// tokens carry the subjects the EventPolicies admit.
func TestServicesGetTheTokensAClusterWouldGive(t *testing.T) {
	s := stackFor(t)
	s.opts.DataDir = t.TempDir()
	issuer, err := oidc.NewIssuer(issuerURL)
	if err != nil {
		t.Fatal(err)
	}
	s.tokens = &tokens{issuer: issuer, files: map[string][2]string{}}
	read := func(path, aud string) oidc.Claims {
		t.Helper()
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := issuer.Verify(string(raw), aud)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return c
	}
	env, err := s.serviceEnv(s.topo.Service("signup"))
	if err != nil {
		t.Fatal(err)
	}
	if c := read(env["OIDC_TOKEN_FILE"], "eventing.knative.dev/kafkasink/tidings/users"); c.Subject != "system:serviceaccount:tidings:signup-sink-oidc-sources.knative.dev-sinkbinding" {
		t.Errorf("signup's subject %q", c.Subject)
	}
	env, err = s.serviceEnv(s.topo.Service("relay"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range s.topo.KafkaSinks {
		if len(events.TopicProducers(k.Topic)) == 0 {
			continue // a dead-letter sink: only its KafkaSource writes there
		}
		if c := read(filepath.Join(env["OIDC_TOKEN_DIR"], filepath.FromSlash(k.IngressPath())), "eventing.knative.dev/kafkasink/tidings/"+k.Name); c.Subject != "system:serviceaccount:tidings:relay" {
			t.Errorf("relay's subject for %s: %q", k.Name, c.Subject)
		}
	}
	if env, _ := s.serviceEnv(s.topo.Service("session")); env["OIDC_TOKEN_FILE"] != "" || env["OIDC_TOKEN_DIR"] != "" {
		t.Errorf("session, which sends no events, got tokens: %v", env)
	}
}

// knative/eventpolicies.yaml says what the contract says: each event sink
// admits its types' producers (through their SinkBindings) and the relay,
// and only those types.
func TestEventPoliciesAreTheContractsProducers(t *testing.T) {
	s := stackFor(t)
	for _, k := range s.topo.KafkaSinks {
		producers := events.TopicProducers(k.Topic)
		if len(producers) == 0 {
			continue // a dead-letter sink: not part of the contract
		}
		var want, types []string
		for _, p := range producers {
			if p == events.Relay {
				want = append(want, "system:serviceaccount:tidings:relay")
				continue
			}
			b := s.topo.SinkBindingFor(p)
			if b == nil || b.Sink.Ref == nil || b.Sink.Ref.Name != k.Name {
				t.Fatalf("producer %s of %s is not bound to sink %s", p, k.Topic, k.Name)
			}
			want = append(want, topology.OIDCSubject(topology.ObjectRef{APIVersion: topology.SourcesV1, Kind: "SinkBinding", Name: b.Name}, b.Namespace))
		}
		for _, typ := range events.Types() {
			if topic, _ := events.TopicOf(typ); topic == k.Topic {
				types = append(types, typ)
			}
		}
		var got, gotTypes []string
		for _, p := range s.topo.EventPoliciesFor(k.Name) {
			got = append(got, p.Subjects()...)
			gotTypes = append(gotTypes, p.Types...)
		}
		slices.Sort(want)
		slices.Sort(got)
		slices.Sort(gotTypes)
		if !slices.Equal(got, want) || !slices.Equal(gotTypes, types) {
			t.Errorf("sink %s admits %v for %v, the contract says %v for %v", k.Name, got, gotTypes, want, types)
		}
	}
}
