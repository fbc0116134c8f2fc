package topology

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Path match types of the Gateway API that we implement.
const (
	PathExact  = "Exact"
	PathPrefix = "PathPrefix"
)

// Route is the Gateway API HTTPRoute that maps URL paths to Services.
type Route struct {
	Name      string
	Namespace string
	Hostnames []string
	Rules     []RouteRule

	origin
	raw *rawHTTPRoute
}

// RouteRule sends requests matching any of Matches to the Service Backend.
type RouteRule struct {
	Matches     []PathMatch
	Backend     string // backendRefs[0].name: a Knative Service name
	Port        int    // backendRefs[0].port, 0 when unset
	RewriteHost string // URLRewrite filter hostname, "" when there is none
}

// PathMatch is one path match of a rule.
type PathMatch struct {
	Type  string // PathExact or PathPrefix
	Value string
}

// matches reports whether a request path matches, per the Gateway API: Exact is
// a case-sensitive string comparison; PathPrefix matches whole path elements and
// ignores a trailing "/" on the prefix, so "/abc" and "/abc/" both match /abc,
// /abc/ and /abc/def but not /abcd.
func (m PathMatch) matches(path string) bool {
	switch m.Type {
	case PathExact:
		return path == m.Value
	case PathPrefix:
		p := m.prefix()
		if p == "" {
			return true // "/" matches everything
		}
		return path == p || strings.HasPrefix(path, p+"/")
	}
	return false
}

// prefix is a PathPrefix value without its trailing "/".
func (m PathMatch) prefix() string {
	return strings.TrimSuffix(m.Value, "/")
}

// Resolve returns the backend for a request path; see Rule.
func (r *Route) Resolve(path string) (backend string, ok bool) {
	rule, ok := r.Rule(path)
	return rule.Backend, ok
}

// Rule returns the rule a request path (a query or fragment is ignored)
// follows, with Gateway API precedence: an Exact match beats any PathPrefix
// match; among PathPrefix matches the longest prefix wins; a remaining tie goes
// to the rule listed first. ok is false when nothing matches.
func (r *Route) Rule(path string) (rule RouteRule, ok bool) {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = "/"
	}
	bestLen := -1
	for _, rr := range r.Rules {
		for _, m := range rr.Matches {
			if !m.matches(path) {
				continue
			}
			if m.Type == PathExact {
				return rr, true
			}
			if n := len(m.prefix()); n > bestLen {
				bestLen, rule = n, rr
			}
		}
	}
	return rule, bestLen >= 0
}

// LoadRoute reads the HTTPRoute in path (gateway.networking.k8s.io/v1). The file
// must hold exactly one object and it must be an HTTPRoute; decoding is strict,
// like Load. A rule with no matches, or a match with no path, matches every path
// (PathPrefix "/"), as the Gateway API defines.
func LoadRoute(path string) (*Route, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read route: %w", err)
	}
	docs := splitDocuments(filepath.Base(path), trimBOM(data))
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: want exactly one HTTPRoute, found %d documents", path, len(docs))
	}
	doc := docs[0]
	o := origin{file: doc.file, line: doc.line, name: "#1"}
	h, j, err := readHeader(doc)
	if h.Metadata.Name != "" {
		o.name = h.Metadata.Name
	}
	if err != nil {
		o.kind = h.Kind
		return nil, o.errorf("", "%v", err)
	}
	if h.APIVersion != GatewayV1 || h.Kind != "HTTPRoute" {
		return nil, o.errorf("kind", "unknown kind %q with apiVersion %q (want HTTPRoute %s)", h.Kind, h.APIVersion, GatewayV1)
	}
	o.kind = h.Kind
	var raw rawHTTPRoute
	if err := decodeStrict(doc, j, o, &raw); err != nil {
		return nil, err
	}
	r := &Route{
		Name:      raw.Metadata.Name,
		Namespace: raw.Metadata.Namespace,
		Hostnames: raw.Spec.Hostnames,
		origin:    o,
		raw:       &raw,
	}
	for _, rr := range raw.Spec.Rules {
		rule := RouteRule{}
		for _, m := range rr.Matches {
			pm := PathMatch{Type: PathPrefix, Value: "/"}
			if m.Path != nil {
				if m.Path.Type != nil {
					pm.Type = *m.Path.Type
				}
				if m.Path.Value != nil {
					pm.Value = *m.Path.Value
				}
			}
			rule.Matches = append(rule.Matches, pm)
		}
		if len(rule.Matches) == 0 {
			rule.Matches = []PathMatch{{Type: PathPrefix, Value: "/"}}
		}
		if len(rr.BackendRefs) > 0 {
			rule.Backend = rr.BackendRefs[0].Name
			if p := rr.BackendRefs[0].Port; p != nil {
				rule.Port = int(*p)
			}
		}
		for _, f := range rr.Filters {
			if f.URLRewrite != nil && f.URLRewrite.Hostname != nil {
				rule.RewriteHost = *f.URLRewrite.Hostname
			}
		}
		r.Rules = append(r.Rules, rule)
	}
	return r, nil
}

// CheckRoute applies our rules to an HTTPRoute: path matches are Exact or
// PathPrefix with a clean absolute value and no duplicates; every rule has
// exactly one backend, a core Service named after a Knative Service we ship,
// reached on port 80 through a URLRewrite to that Service's cluster-local host
// (Knative's ingress routes by Host header). It returns every problem, joined.
func (t *Topology) CheckRoute(r *Route) error {
	var errs problems
	add := errs.add
	o := r.origin
	if r.Name == "" {
		add(o.errorf("metadata.name", "required"))
	}
	add(checkNamespace(o, r.Namespace))
	if len(r.raw.Spec.ParentRefs) == 0 {
		add(o.errorf("spec.parentRefs", "required: a route attaches to a Gateway"))
	}
	for i, p := range r.raw.Spec.ParentRefs {
		if p.Name == "" {
			add(o.errorf(fmt.Sprintf("spec.parentRefs[%d].name", i), "required"))
		}
	}
	if len(r.raw.Spec.Rules) == 0 {
		add(o.errorf("spec.rules", "required"))
	}
	seen := map[PathMatch]int{}
	for i, rr := range r.raw.Spec.Rules {
		f := "spec.rules[" + strconv.Itoa(i) + "]"
		for j, m := range r.Rules[i].Matches {
			mf := fmt.Sprintf("%s.matches[%d].path", f, j)
			switch m.Type {
			case PathExact, PathPrefix:
			default:
				add(o.errorf(mf+".type", "%q: want Exact or PathPrefix (RegularExpression is not supported by the local gateway)", m.Type))
			}
			if err := checkPathValue(m.Value); err != nil {
				add(o.errorf(mf+".value", "%q: %v", m.Value, err))
			}
			key := m
			if key.Type == PathPrefix {
				key.Value = key.prefix()
			}
			if prev, dup := seen[key]; dup {
				add(o.errorf(mf, "%s %s already matches in spec.rules[%d]", m.Type, m.Value, prev))
			}
			seen[key] = i
		}
		if len(rr.BackendRefs) != 1 {
			add(o.errorf(f+".backendRefs", "want exactly one backend, got %d", len(rr.BackendRefs)))
			continue
		}
		b := rr.BackendRefs[0]
		bf := f + ".backendRefs[0]"
		if b.Group != nil && *b.Group != "" {
			add(o.errorf(bf+".group", "%q: the backend is the core Service Knative creates for a Knative Service; leave group empty", *b.Group))
		}
		if b.Kind != nil && *b.Kind != "Service" {
			add(o.errorf(bf+".kind", "%q: want Service", *b.Kind))
		}
		if b.Namespace != "" && b.Namespace != r.Namespace {
			add(o.errorf(bf+".namespace", "%q: backends live in the route's namespace %q", b.Namespace, r.Namespace))
		}
		svc := t.Service(b.Name)
		if b.Name == "" {
			add(o.errorf(bf+".name", "required"))
		} else if svc == nil {
			add(o.errorf(bf+".name", "no Knative Service %q in the manifests", b.Name))
		}
		if b.Port != nil && *b.Port != 80 {
			add(o.errorf(bf+".port", "%d: a Knative Service is served on port 80", *b.Port))
		}
		rewrites := 0
		for k, fl := range rr.Filters {
			ff := fmt.Sprintf("%s.filters[%d]", f, k)
			if fl.Type != "URLRewrite" || fl.URLRewrite == nil {
				add(o.errorf(ff+".type", "%q: only URLRewrite (with urlRewrite set) is supported", fl.Type))
				continue
			}
			rewrites++
			if fl.URLRewrite.Hostname == nil {
				add(o.errorf(ff+".urlRewrite.hostname", "required"))
			} else if svc != nil {
				want := svc.Name + "." + svc.Namespace + ".svc.cluster.local"
				if got := *fl.URLRewrite.Hostname; got != want {
					add(o.errorf(ff+".urlRewrite.hostname", "%q: Knative routes %s by the Host %q", got, svc.Name, want))
				}
			}
		}
		if rewrites != 1 {
			add(o.errorf(f+".filters", "want one URLRewrite setting the backend's cluster-local hostname, got %d", rewrites))
		}
	}
	return errors.Join(errs...)
}

// checkPathValue applies the Gateway API rules for a path match value.
func checkPathValue(v string) error {
	switch {
	case !strings.HasPrefix(v, "/"):
		return errors.New("must start with /")
	case strings.Contains(v, "//"):
		return errors.New("must not contain //")
	case strings.ContainsAny(v, "?#"):
		return errors.New("must not contain a query or fragment")
	case strings.Contains(v+"/", "/./") || strings.Contains(v+"/", "/../"):
		return errors.New("must not contain . or .. segments")
	case strings.Contains(strings.ToLower(v), "%2f"):
		return errors.New("must not contain an encoded /")
	}
	return nil
}
