package topology

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The manifests we ship live one directory up; the HTTPRoute in infra/cluster.
const (
	knativeDir = ".."
	routeFile  = "../../infra/cluster/http-route.yaml"
)

func loadShipped(t *testing.T) *Topology {
	t.Helper()
	topo, err := Load(knativeDir)
	if err != nil {
		t.Fatalf("Load(%s): %v", knativeDir, err)
	}
	return topo
}

func TestShippedManifestsPassCheck(t *testing.T) {
	topo := loadShipped(t)
	if err := topo.Check(); err != nil {
		t.Fatalf("Check on the shipped manifests:\n%v", err)
	}
	route, err := LoadRoute(routeFile)
	if err != nil {
		t.Fatalf("LoadRoute: %v", err)
	}
	if err := topo.CheckRoute(route); err != nil {
		t.Fatalf("CheckRoute on the shipped route:\n%v", err)
	}
}

// TestShippedTopologyNamesAndWiring pins the names and wiring that every other part
// of Tidings relies on (the README's Events table and the functions' env).
func TestShippedTopologyNamesAndWiring(t *testing.T) {
	topo := loadShipped(t)

	var services []string
	for _, s := range topo.Services {
		services = append(services, s.Name)
	}
	slices.Sort(services)
	wantServices := []string{"fanout", "friends", "inbox", "notify", "post", "relay", "session", "signup", "upload", "web", "welcome"}
	if !slices.Equal(services, wantServices) {
		t.Errorf("services = %v, want %v", services, wantServices)
	}
	for _, s := range topo.Services {
		wantImport := "github.com/tidings-dev/tidings/functions/" + s.Name
		if s.Name == "web" {
			wantImport = "github.com/tidings-dev/tidings/web/server"
		}
		if got := s.ImportPath(); got != wantImport {
			t.Errorf("service %s ImportPath() = %q, want %q", s.Name, got, wantImport)
		}
		if s.MinScale != 0 {
			t.Errorf("service %s min-scale = %d, want 0 (scale to zero)", s.Name, s.MinScale)
		}
		if s.MaxScale < 1 {
			t.Errorf("service %s max-scale = %d, want a bound", s.Name, s.MaxScale)
		}
		// Functions split liveness (the process) from readiness (its
		// dependencies); web has none, so one path serves both.
		wantReady, wantLive := "/readyz", "/livez"
		if s.Name == "web" {
			wantReady, wantLive = "/healthz", "/healthz"
		}
		if s.ReadinessPath != wantReady || s.LivenessPath != wantLive {
			t.Errorf("service %s probes %q/%q, want %q/%q", s.Name, s.ReadinessPath, s.LivenessPath, wantReady, wantLive)
		}
		if !slices.Equal(s.EnvFrom, []EnvFrom{{Kind: "ConfigMap", Name: "tidings-config"}}) {
			t.Errorf("service %s envFrom = %+v", s.Name, s.EnvFrom)
		}
		if s.Timeout <= 0 || s.Timeout > 600*time.Second {
			t.Errorf("service %s timeout = %v", s.Name, s.Timeout)
		}
		if s.File() != "services.yaml" || s.Line() < 1 {
			t.Errorf("service %s origin = %s:%d", s.Name, s.File(), s.Line())
		}
	}

	wantSinks := map[string]string{
		"users": "tidings.users", "friends": "tidings.friends", "posts": "tidings.posts",
		"notifications": "tidings.notifications", "dlq-welcome": "tidings.dlq.welcome",
		"dlq-fanout": "tidings.dlq.fanout", "dlq-notify": "tidings.dlq.notify",
		"parked-welcome": "tidings.parked.welcome", "parked-fanout": "tidings.parked.fanout",
		"parked-notify": "tidings.parked.notify",
	}
	if len(topo.KafkaSinks) != len(wantSinks) {
		t.Errorf("%d KafkaSinks, want %d", len(topo.KafkaSinks), len(wantSinks))
	}
	for name, topic := range wantSinks {
		k := topo.KafkaSink(name)
		if k == nil {
			t.Errorf("KafkaSink %s missing", name)
			continue
		}
		if k.Topic != topic || k.ContentMode != ContentModeBinary {
			t.Errorf("KafkaSink %s = %+v", name, *k)
		}
		if got := k.IngressPath(); got != "/tidings/"+name {
			t.Errorf("KafkaSink %s IngressPath() = %q", name, got)
		}
	}

	wantBindings := map[string]string{"signup": "users", "friends": "friends", "post": "posts", "fanout": "notifications"}
	for svc, sink := range wantBindings {
		d, ok := topo.SinkFor(svc)
		if !ok {
			t.Errorf("SinkFor(%s): no SinkBinding", svc)
			continue
		}
		if k := topo.KafkaSinkFor(d); k == nil || k.Name != sink {
			t.Errorf("SinkFor(%s) = %+v, want KafkaSink %s", svc, d.Ref, sink)
		}
	}
	if _, ok := topo.SinkFor("welcome"); ok {
		t.Errorf("SinkFor(welcome) found a binding; welcome emits nothing")
	}

	wantSources := []struct {
		name, group, ordering, service, dls string
		topics                              []string
	}{
		{"welcome", "tidings-welcome", Unordered, "welcome", "dlq-welcome", []string{"tidings.users"}},
		{"fanout", "tidings-fanout", Ordered, "fanout", "dlq-fanout", []string{"tidings.posts"}},
		{"notify", "tidings-notify", Ordered, "notify", "dlq-notify", []string{"tidings.friends", "tidings.notifications"}},
		// sources.yaml, "Re-drive": each reads one source's dead letters
		// and delivers them to the same Service, parking what still fails.
		{"redrive-welcome", "tidings-redrive-welcome", Unordered, "welcome", "parked-welcome", []string{"tidings.dlq.welcome"}},
		{"redrive-fanout", "tidings-redrive-fanout", Unordered, "fanout", "parked-fanout", []string{"tidings.dlq.fanout"}},
		{"redrive-notify", "tidings-redrive-notify", Unordered, "notify", "parked-notify", []string{"tidings.dlq.notify"}},
	}
	for _, w := range wantSources {
		k := topo.KafkaSource(w.name)
		if k == nil {
			t.Errorf("KafkaSource %s missing", w.name)
			continue
		}
		if k.ConsumerGroup != w.group || k.Ordering != w.ordering || k.InitialOffset != OffsetEarliest || k.KeyType != "string" || !slices.Equal(k.Topics, w.topics) {
			t.Errorf("KafkaSource %s = %+v", w.name, *k)
		}
		if s := topo.ServiceFor(k.Sink); s == nil || s.Name != w.service {
			t.Errorf("KafkaSource %s sink = %+v, want Service %s", w.name, k.Sink.Ref, w.service)
		}
		d := k.Delivery
		if d.DeadLetterSink == nil {
			t.Errorf("KafkaSource %s has no dead-letter sink", w.name)
		} else if dls := topo.KafkaSinkFor(*d.DeadLetterSink); dls == nil || dls.Name != w.dls {
			t.Errorf("KafkaSource %s dead-letter sink = %+v, want %s", w.name, d.DeadLetterSink.Ref, w.dls)
		}
		if d.BackoffPolicy != BackoffExponential || d.Retry < 1 || d.BackoffDelay <= 0 || d.Timeout <= 0 {
			t.Errorf("KafkaSource %s delivery = %+v", w.name, d)
		}
		if got := topo.SourcesFor(w.service); len(got) != 2 || !slices.Contains(got, k) {
			t.Errorf("SourcesFor(%s) = %v, want its source and its re-drive", w.service, got)
		}
	}
	// The concrete delivery numbers of welcome, as commented in sources.yaml.
	if d := topo.KafkaSource("welcome").Delivery; d.Retry != 6 || d.BackoffDelay != 500*time.Millisecond || d.Timeout != 30*time.Second {
		t.Errorf("welcome delivery = %+v", d)
	}

	p := topo.PingSource("outbox-relay")
	if p == nil {
		t.Fatal("PingSource outbox-relay missing")
	}
	if p.Schedule != "* * * * *" {
		t.Errorf("outbox-relay schedule = %q", p.Schedule)
	}
	if s := topo.ServiceFor(p.Sink); s == nil || s.Name != "relay" {
		t.Errorf("outbox-relay sink = %+v", p.Sink.Ref)
	}
}

func TestServiceDefaultsAndAnnotations(t *testing.T) {
	topo := loadShipped(t)
	signup := topo.Service("signup")
	if signup == nil {
		t.Fatal("no signup")
	}
	if signup.ContainerConcurrency != 10 || signup.Target != 7 || signup.MaxScale != 10 ||
		signup.Timeout != 30*time.Second || signup.ScaleToZeroRetention != 5*time.Minute ||
		signup.Window != DefaultWindow || signup.Port != 8080 {
		t.Errorf("signup = %+v", *signup)
	}
	if got := signup.TemplateAnnotations[AnnotationMinScale]; got != "0" {
		t.Errorf("signup min-scale annotation = %q", got)
	}
	wantEnv := []EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "DATABASE_URL", ValueFrom: &EnvVarSource{SecretKeyRef: &KeyRef{Name: "tidings-postgres", Key: "DATABASE_URL"}}}}
	if !slices.EqualFunc(signup.Env, wantEnv, func(a, b EnvVar) bool { return reflect.DeepEqual(a, b) }) {
		t.Errorf("signup env = %+v", signup.Env)
	}
	relay := topo.Service("relay")
	if relay.Window != 10*time.Second || relay.ScaleToZeroRetention != 0 || relay.MaxScale != 1 {
		t.Errorf("relay = %+v", *relay)
	}
	if topo.Service("nope") != nil || topo.KafkaSink("nope") != nil || topo.KafkaSource("nope") != nil ||
		topo.SinkBinding("nope") != nil || topo.PingSource("nope") != nil {
		t.Error("lookup of a missing name returned an object")
	}
	if b := topo.SinkBinding("signup-sink"); b == nil || b.Subject.Name != "signup" {
		t.Errorf("SinkBinding(signup-sink) = %+v", b)
	}
}

func TestDeliveryBackoff(t *testing.T) {
	exp := Delivery{BackoffPolicy: BackoffExponential, BackoffDelay: 500 * time.Millisecond}
	lin := Delivery{BackoffPolicy: BackoffLinear, BackoffDelay: 500 * time.Millisecond}
	cases := []struct {
		d    Delivery
		n    int
		want time.Duration
	}{
		{exp, 0, 0},
		{exp, 1, time.Second}, // the first retry already waits 2 x delay
		{exp, 2, 2 * time.Second},
		{exp, 4, 8 * time.Second},
		{lin, 1, 500 * time.Millisecond},
		{lin, 3, 1500 * time.Millisecond},
	}
	for _, c := range cases {
		if got := c.d.Backoff(c.n); got != c.want {
			t.Errorf("%s Backoff(%d) = %v, want %v", c.d.BackoffPolicy, c.n, got, c.want)
		}
	}
	if got := exp.Backoff(1000); got <= 0 {
		t.Errorf("Backoff(1000) = %v, overflowed", got)
	}
}

// Each autoscaling target in services.yaml carries a comment with the
// concurrency Knative really aims for, and the comment is right.
func TestTargetCommentsStateTheEffectiveTarget(t *testing.T) {
	topo := loadShipped(t)
	data, err := os.ReadFile(filepath.Join(knativeDir, "services.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`autoscaling\.knative\.dev/target: "\d+" # effective ([0-9.]+) in flight per pod \(x 70%\)`)
	found := line.FindAllStringSubmatch(string(data), -1)
	if len(found) != len(topo.Services) {
		t.Fatalf("%d target lines with an effective-target comment, want one per Service (%d)", len(found), len(topo.Services))
	}
	for i, s := range topo.Services {
		got, err := strconv.ParseFloat(found[i][1], 64)
		if err != nil {
			t.Fatal(err)
		}
		if want := s.EffectiveTarget(); math.Abs(got-want) > 0.001 {
			t.Errorf("Service %s: comment says %v, Knative aims for %v", s.Name, got, want)
		}
	}
}

func TestEffectiveTarget(t *testing.T) {
	cases := []struct {
		target, cc int
		ann        map[string]string
		want       float64
	}{
		{7, 10, nil, 4.9},
		{500, 100, nil, 70}, // containerConcurrency caps the target
		{200, 0, nil, 140},  // 0 = unlimited: no cap
		{10, 20, map[string]string{AnnotationTargetUtilization: "100"}, 10},
		{1, 1, map[string]string{AnnotationTargetUtilization: "0.1"}, 0.01},
	}
	for _, c := range cases {
		s := &Service{Target: c.target, ContainerConcurrency: c.cc, TemplateAnnotations: c.ann}
		if got := s.EffectiveTarget(); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("target %d, cc %d, %v: EffectiveTarget() = %v, want %v", c.target, c.cc, c.ann, got, c.want)
		}
	}
}
