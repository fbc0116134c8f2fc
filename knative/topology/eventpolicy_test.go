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
	if !slices.Equal(ps[0].Types, []string{"dev.tidings.friend.requested.v1", "dev.tidings.friend.accepted.v1"}) {
		t.Errorf("types %v", ps[0].Types)
	}
	if got := Audience(ObjectRef{APIVersion: EventingV1Alpha1, Kind: "KafkaSink", Name: "users"}, "tidings"); got != "eventing.knative.dev/kafkasink/tidings/users" {
		t.Errorf("audience %q", got)
	}
}
