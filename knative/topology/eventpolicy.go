package topology

import (
	"fmt"
	"strings"
)

// EventPolicy (eventing.knative.dev/v1alpha1) says who may send to the
// objects in To: the OIDC identities of the From references (a SinkBinding,
// a KafkaSource...) and the From subjects, and, with Filters, which events.
// Shape: knative/eventing pkg/apis/eventing/v1alpha1/eventpolicy_types.go.
type EventPolicy struct {
	Name      string
	Namespace string
	To        []ObjectRef
	// FromRefs are resolved to their OIDC ServiceAccounts (OIDCSubject).
	FromRefs []ObjectRef
	// FromSubjects are token subjects as written (sub); a trailing * matches
	// any suffix, as the receiver's PrefixTokenMatcher does.
	FromSubjects []string
	// Types are the event types the exact-type filters admit; empty admits
	// every type.
	Types []string
	origin
}

// Subjects lists every token subject the policy admits.
func (p *EventPolicy) Subjects() []string {
	out := append([]string(nil), p.FromSubjects...)
	for _, r := range p.FromRefs {
		ns := r.Namespace
		if ns == "" {
			ns = p.Namespace
		}
		out = append(out, OIDCSubject(r, ns))
	}
	return out
}

// OIDCSubject is the token subject Knative gives the OIDC identity of a
// source or binding: the ServiceAccount named <name>-oidc-<group>-<kind>,
// lower-cased (knative/eventing pkg/auth/serviceaccount.go,
// GetOIDCServiceAccountNameForResource, through knative/pkg kmeta.ChildName,
// which shortens only names over 63 characters; ours are shorter), e.g.
// my-source-oidc-sources.knative.dev-pingsource as an EventPolicy's
// status.from lists it.
func OIDCSubject(r ObjectRef, namespace string) string {
	group, _, _ := strings.Cut(r.APIVersion, "/")
	sa := strings.ToLower(r.Name + fmt.Sprintf("-oidc-%s-%s", group, r.Kind))
	return "system:serviceaccount:" + namespace + ":" + sa
}

// Audience is the OIDC audience of an addressable object:
// <group>/<kind>/<namespace>/<name>, lower-cased (knative/eventing
// pkg/auth/audience.go, GetAudience).
func Audience(r ObjectRef, namespace string) string {
	group, _, _ := strings.Cut(r.APIVersion, "/")
	return strings.ToLower(group + "/" + r.Kind + "/" + namespace + "/" + r.Name)
}

// EventPoliciesFor lists the policies whose To names the KafkaSink name.
func (t *Topology) EventPoliciesFor(sink string) []*EventPolicy {
	var out []*EventPolicy
	for _, p := range t.EventPolicies {
		for _, to := range p.To {
			if to.APIVersion == EventingV1Alpha1 && to.Kind == "KafkaSink" && to.Name == sink {
				out = append(out, p)
			}
		}
	}
	return out
}

type rawEventPolicy struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   rawMeta            `json:"metadata"`
	Spec       rawEventPolicySpec `json:"spec"`
}

type rawEventPolicySpec struct {
	To []struct {
		Ref *rawRef `json:"ref"`
	} `json:"to"`
	From []struct {
		Ref *rawRef `json:"ref"`
		Sub *string `json:"sub"`
	} `json:"from"`
	Filters []rawTypeFilter `json:"filters"`
}

// rawTypeFilter is the part of the SubscriptionsAPI filter dialect we use:
// an exact type, or any of several.
type rawTypeFilter struct {
	Exact map[string]string `json:"exact"`
	Any   []rawTypeFilter   `json:"any"`
}

func (f rawTypeFilter) types() []string {
	var out []string
	if t, ok := f.Exact["type"]; ok {
		out = append(out, t)
	}
	for _, a := range f.Any {
		out = append(out, a.types()...)
	}
	return out
}

func newEventPolicy(raw *rawEventPolicy, o origin) *EventPolicy {
	p := &EventPolicy{Name: raw.Metadata.Name, Namespace: raw.Metadata.Namespace, origin: o}
	ref := func(r *rawRef) ObjectRef {
		return ObjectRef{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace}
	}
	for _, to := range raw.Spec.To {
		if to.Ref != nil {
			p.To = append(p.To, ref(to.Ref))
		}
	}
	for _, from := range raw.Spec.From {
		if from.Ref != nil {
			p.FromRefs = append(p.FromRefs, ref(from.Ref))
		}
		if from.Sub != nil {
			p.FromSubjects = append(p.FromSubjects, *from.Sub)
		}
	}
	for _, f := range raw.Spec.Filters {
		p.Types = append(p.Types, f.types()...)
	}
	return p
}
