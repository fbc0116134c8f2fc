package topology

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
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
	Retry       *Retry // spec.rules[].retry, nil when unset
}

// PathMatch is one path match of a rule, optionally for one method.
type PathMatch struct {
	Type   string // PathExact or PathPrefix
	Value  string
	Method string // "" matches every method
}

// Retry is a rule's retry policy (Gateway API GEP-1731, HTTPRouteRetry in
// kubernetes-sigs/gateway-api apis/v1/httproute_types.go): a backend answer
// with one of Codes, or no answer at all, is tried again up to Attempts more
// times, waiting at least Backoff between tries.
type Retry struct {
	Codes    []int
	Attempts int
	Backoff  time.Duration
}

// Retries reports whether a backend answer of status is worth another try.
func (r *Retry) Retries(status int) bool { return r != nil && slices.Contains(r.Codes, status) }

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

// Resolve returns the backend for a request path whatever its method: the
// rules that match a method only add a retry policy to the backend the path
// already has (CheckRoute), so the method-less match decides.
func (r *Route) Resolve(path string) (backend string, ok bool) {
	rule, ok := r.Rule("", path)
	return rule.Backend, ok
}

// Rule returns the rule a request (method, path; a query or fragment is
// ignored) follows, with Gateway API precedence (HTTPRouteRule in
// kubernetes-sigs/gateway-api apis/v1/httproute_types.go): an Exact match
// beats any PathPrefix match; among PathPrefix matches the longest prefix
// wins; then a match naming the method beats one that does not; a remaining
// tie goes to the rule listed first. A method of "" matches only method-less
// matches. ok is false when nothing matches.
func (r *Route) Rule(method, path string) (rule RouteRule, ok bool) {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		path = "/"
	}
	type rank struct{ exact, prefix, method int }
	better := func(a, b rank) bool {
		if a.exact != b.exact {
			return a.exact > b.exact
		}
		if a.prefix != b.prefix {
			return a.prefix > b.prefix
		}
		return a.method > b.method
	}
	best := rank{-1, -1, -1}
	for _, rr := range r.Rules {
		for _, m := range rr.Matches {
			if !m.matches(path) || (m.Method != "" && m.Method != method) {
				continue
			}
			k := rank{prefix: len(m.prefix())}
			if m.Type == PathExact {
				k = rank{exact: 1}
			}
			if m.Method != "" {
				k.method = 1
			}
			if better(k, best) {
				best, rule = k, rr
			}
		}
	}
	return rule, best.prefix >= 0
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
			if m.Method != nil {
				pm.Method = *m.Method
			}
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
		if rr.Retry != nil {
			rule.Retry = &Retry{Codes: rr.Retry.Codes}
			if rr.Retry.Attempts != nil {
				rule.Retry.Attempts = *rr.Retry.Attempts
			}
			if rr.Retry.Backoff != nil {
				// A bad value is CheckRoute's to report; it leaves 0 here.
				rule.Retry.Backoff, _ = parseGatewayDuration(*rr.Retry.Backoff)
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
		for _, e := range checkRetry(o, f, rr.Retry, r.Rules[i].Matches) {
			add(e)
		}
	}
	// A match for one method may only add a policy (a retry) to the path's
	// route: the same path without a method must go to the same backend, or
	// a request's backend would depend on its method.
	for i, rule := range r.Rules {
		for j, m := range rule.Matches {
			if m.Method == "" {
				continue
			}
			mf := fmt.Sprintf("spec.rules[%d].matches[%d]", i, j)
			if !validMethods[m.Method] {
				add(o.errorf(mf+".method", "%q: not an HTTP method of the Gateway API", m.Method))
			}
			anyMethod := PathMatch{Type: m.Type, Value: m.Value}
			if anyMethod.Type == PathPrefix {
				anyMethod.Value = anyMethod.prefix()
			}
			if prev, ok := seen[anyMethod]; !ok {
				add(o.errorf(mf, "%s %s for %s only: the same path without a method must be routed too", m.Type, m.Value, m.Method))
			} else if r.Rules[prev].Backend != rule.Backend {
				add(o.errorf(mf, "%s %s goes to %s for %s but to %s otherwise: a method may add a retry, never change the backend", m.Type, m.Value, rule.Backend, m.Method, r.Rules[prev].Backend))
			}
		}
	}
	return errors.Join(errs...)
}

// validMethods are the methods an HTTPRouteMatch may name.
var validMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true}

// checkRetry applies our rules to a rule's retry policy: every number is
// stated (unset means implementation-specific), only 5xx answers are retried,
// and only for matches of GET or HEAD. Those are safe to send twice; a POST
// the backend died while handling may have committed (a retry would sign up
// or post twice), and its body would have to be buffered to be sent again.
func checkRetry(o origin, f string, r *rawRouteRetry, matches []PathMatch) []error {
	if r == nil {
		return nil
	}
	var errs problems
	add := errs.add
	for j, m := range matches {
		if m.Method != "GET" && m.Method != "HEAD" {
			add(o.errorf(fmt.Sprintf("%s.matches[%d].method", f, j), "%q: a rule with a retry matches only GET or HEAD (safe to send twice)", m.Method))
		}
	}
	f += ".retry"
	switch {
	case r.Attempts == nil:
		add(o.errorf(f+".attempts", "required: unset is implementation-specific"))
	case *r.Attempts < 1:
		add(o.errorf(f+".attempts", "must be >= 1, got %d", *r.Attempts))
	}
	if r.Backoff == nil {
		add(o.errorf(f+".backoff", "required: unset is implementation-specific"))
	} else if _, err := parseGatewayDuration(*r.Backoff); err != nil {
		add(o.errorf(f+".backoff", "%q: %v", *r.Backoff, err))
	}
	if len(r.Codes) == 0 {
		add(o.errorf(f+".codes", "required: the answers worth another try (502, 503, 504)"))
	}
	for k, c := range r.Codes {
		if c < 500 || c > 599 {
			add(o.errorf(fmt.Sprintf("%s.codes[%d]", f, k), "%d: only a 5xx answer is the gateway's to retry", c))
		}
	}
	return errs
}

// gatewayDuration is the Gateway API's Duration format (GEP-2257,
// kubernetes-sigs/gateway-api apis/v1/shared_types.go): 1 to 4 parts of up
// to 5 digits and a unit h, m, s or ms, such as "1h30m" or "250ms".
var gatewayDuration = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

func parseGatewayDuration(s string) (time.Duration, error) {
	if !gatewayDuration.MatchString(s) {
		return 0, errors.New("not a Gateway API duration (such as 100ms or 1s)")
	}
	return time.ParseDuration(s)
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
