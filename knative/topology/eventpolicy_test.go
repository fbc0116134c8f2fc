package topology

import (
	"slices"
	"testing"
)

// The shipped EventPolicies admit, per sink, the producer's SinkBinding
// identity and the relay, for the sink's own types.
func TestShippedEventPolicies(t *testing.T) {
	topo := loadShipped(t)
	ps := topo.EventPoliciesFor("friends")
	if len(ps) != 1 {
		t.Fatalf("%d policies for the friends sink", len(ps))
	}
	want := []string{"system:serviceaccount:tidings:relay", "system:serviceaccount:tidings:friends-sink-oidc-sources.knative.dev-sinkbinding"}
	if got := ps[0].Subjects(); !slices.Equal(got, want) {
		t.Errorf("subjects %v, want %v", got, want)
	}
	if !slices.Equal(ps[0].Types, []string{"dev.tidings.friend.requested.v1", "dev.tidings.friend.accepted.v1", "dev.tidings.friend.cancelled.v1"}) {
		t.Errorf("types %v", ps[0].Types)
	}
	if got := Audience(ObjectRef{APIVersion: EventingV1Alpha1, Kind: "KafkaSink", Name: "users"}, "tidings"); got != "eventing.knative.dev/kafkasink/tidings/users" {
		t.Errorf("audience %q", got)
	}
}

// The relay holds a token for exactly the sinks whose policies admit it, at
// the path the sink's URL names.
func TestRelayHasATokenForEverySinkThatAdmitsIt(t *testing.T) {
	topo := loadShipped(t)
	relay := topo.Service("relay")
	if relay == nil || relay.ServiceAccountName != "relay" {
		t.Fatalf("relay: %+v", relay)
	}
	have := map[string]string{}
	for _, f := range relay.Tokens {
		have[f.Audience] = "/" + f.Path
	}
	for _, k := range topo.KafkaSinks {
		admits := false
		for _, p := range topo.EventPoliciesFor(k.Name) {
			admits = admits || slices.Contains(p.Subjects(), "system:serviceaccount:tidings:relay")
		}
		aud := Audience(ObjectRef{APIVersion: EventingV1Alpha1, Kind: "KafkaSink", Name: k.Name}, k.Namespace)
		if path, ok := have[aud]; ok != admits || (ok && path != k.IngressPath()) {
			t.Errorf("sink %s: relay token at %q (%v), admitted %v, ingress path %s", k.Name, path, ok, admits, k.IngressPath())
		}
	}
}

// Every KafkaSink has a policy: the event sinks name their producers, and a
// dead-letter sink admits only the KafkaSource that dead-letters into it.
func TestEverySinkHasItsWriters(t *testing.T) {
	topo := loadShipped(t)
	for _, k := range topo.KafkaSinks {
		if len(topo.EventPoliciesFor(k.Name)) == 0 {
			t.Errorf("KafkaSink %s has no EventPolicy: anyone in the namespace could write to it", k.Name)
		}
	}
	for _, src := range topo.KafkaSources {
		d := src.Delivery.DeadLetterSink
		if d == nil || d.Ref == nil {
			continue
		}
		ps := topo.EventPoliciesFor(d.Ref.Name)
		want := OIDCSubject(ObjectRef{APIVersion: SourcesV1, Kind: "KafkaSource", Name: src.Name}, src.Namespace)
		if len(ps) != 1 || !slices.Equal(ps[0].Subjects(), []string{want}) {
			t.Errorf("dead-letter sink %s of %s: policies admit %v, want only %s", d.Ref.Name, src.Name, ps, want)
		}
	}
}
