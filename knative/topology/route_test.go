package topology

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedRouteResolves(t *testing.T) {
	route, err := LoadRoute(routeFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"/api/signup":                     "signup",
		"/api/signup/extra":               "web", // Exact only
		"/api/login":                      "session",
		"/api/logout":                     "session",
		"/api/me":                         "session",
		"/api/users":                      "friends", // Exact beats PathPrefix /api/users/
		"/api/users?q=an":                 "friends",
		"/api/users/":                     "post", // not Exact; prefix /api/users/ matches
		"/api/users/42/posts":             "post",
		"/api/users/42/posts?cursor=x":    "post",
		"/api/usersx":                     "web",
		"/api/friends":                    "friends",
		"/api/friends/requests/7/accept":  "friends",
		"/api/friendsx":                   "web", // whole path elements only
		"/api/posts":                      "post",
		"/api/posts/":                     "post",
		"/api/files":                      "upload",
		"/api/files/abc":                  "upload",
		"/api/filesystem":                 "web",
		"/api/notifications":              "inbox",
		"/api/notifications/stream":       "inbox",
		"/api/notifications/read#section": "inbox",
		"/":                               "web",
		"":                                "web",
		"/index.html":                     "web",
		"/assets/app.js":                  "web",
	}
	for path, want := range cases {
		got, ok := route.Resolve(path)
		if !ok || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
	if route.Name != "tidings" || route.Namespace != "tidings" || len(route.Rules) != 13 {
		t.Errorf("route = %s/%s with %d rules", route.Namespace, route.Name, len(route.Rules))
	}
	// Every path that has reads reads with a retry, from the same backend;
	// writes never retry.
	writeOnly := map[string]bool{"/api/signup": true, "/api/login": true, "/api/logout": true}
	for path, want := range cases {
		get, ok := route.Rule("GET", path)
		if writeOnly[path] {
			if !ok || get.Backend != want || get.Retry != nil {
				t.Errorf("Rule(GET, %q) = %+v, want %s without a retry (it serves no reads)", path, get, want)
			}
			continue
		}
		if !ok || get.Backend != want || get.Retry == nil || !get.Retry.Retries(502) || get.Retry.Retries(500) ||
			get.Retry.Attempts != 2 || get.Retry.Backoff != 100*time.Millisecond {
			t.Errorf("Rule(GET, %q) = %+v, want %s with a retry on 502", path, get, want)
		}
		for _, m := range []string{"POST", "DELETE", "HEAD"} {
			if w, ok := route.Rule(m, path); !ok || w.Backend != want || w.Retry != nil {
				t.Errorf("Rule(%s, %q) = %+v, want %s without a retry", m, path, w, want)
			}
		}
	}
	for _, r := range route.Rules {
		if r.Port != 80 || r.RewriteHost != r.Backend+".tidings.svc.cluster.local" {
			t.Errorf("rule for %s: port %d, rewrite %q", r.Backend, r.Port, r.RewriteHost)
		}
	}
}

func TestRoutePrecedence(t *testing.T) {
	rule := func(backend string, matches ...PathMatch) RouteRule {
		return RouteRule{Backend: backend, Matches: matches}
	}
	exact := func(v string) PathMatch { return PathMatch{Type: PathExact, Value: v} }
	prefix := func(v string) PathMatch { return PathMatch{Type: PathPrefix, Value: v} }

	r := &Route{Rules: []RouteRule{
		rule("short", prefix("/a")),
		rule("long", prefix("/a/b")),
		rule("slash", prefix("/c/")),
		rule("exact-last", exact("/a/b/c")),
		rule("first", prefix("/d")),
		rule("second", prefix("/d/")), // the same prefix once the slash is ignored
	}}
	cases := []struct {
		path, want string
		ok         bool
	}{
		{"/a", "short", true},
		{"/a/", "short", true},
		{"/a/x", "short", true},
		{"/a/b", "long", true},         // the longer prefix wins though listed later
		{"/a/b/x", "long", true},       //
		{"/a/bx", "short", true},       // /a/b does not match /a/bx
		{"/a/b/c", "exact-last", true}, // Exact wins over every prefix, wherever it is listed
		{"/a/b/c/", "long", true},      // Exact is exact: a trailing slash does not match
		{"/c", "slash", true},          // a trailing slash in the prefix is ignored
		{"/c/", "slash", true},
		{"/c/x", "slash", true},
		{"/cx", "", false},
		{"/d/x", "first", true}, // a tie goes to the rule listed first
		{"/A", "", false},       // case-sensitive
		{"/", "", false},        // no catch-all in this route
		{"/z", "", false},
	}
	for _, c := range cases {
		got, ok := r.Resolve(c.path)
		if got != c.want || ok != c.ok {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", c.path, got, ok, c.want, c.ok)
		}
	}

	catchAll := &Route{Rules: []RouteRule{rule("web", prefix("/")), rule("api", prefix("/api"))}}
	for path, want := range map[string]string{"/": "web", "/x": "web", "/api": "api", "/api/x": "api", "/apix": "web"} {
		if got, ok := catchAll.Resolve(path); !ok || got != want {
			t.Errorf("catch-all Resolve(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

// A rule with no matches, or a match with no path, is PathPrefix "/".
func TestLoadRouteDefaultsMatches(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "route.yaml")
	doc := `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: tidings}
spec:
  parentRefs: [{name: g}]
  rules:
    - matches: [{path: {type: Exact, value: /x}}]
      backendRefs: [{name: a}]
    - matches: [{}]
      backendRefs: [{name: b}]
    - backendRefs: [{name: c}]
`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRoute(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []PathMatch{{Type: PathExact, Value: "/x"}, {Type: PathPrefix, Value: "/"}, {Type: PathPrefix, Value: "/"}} {
		if got := r.Rules[i].Matches[0]; got != want {
			t.Errorf("rule %d match = %+v, want %+v", i, got, want)
		}
	}
	if got, _ := r.Resolve("/y"); got != "b" {
		t.Errorf("Resolve(/y) = %q, want b (first catch-all)", got)
	}
}

func TestBrokenRoute(t *testing.T) {
	topo := loadShipped(t)
	shipped, err := os.ReadFile(routeFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		anchor        string
		old, new      string
		field, msg    string
		failsWhenLoad bool
	}{
		{"typo in a field", "", "      backendRefs:", "      backendRef:", "spec.rules[0].backendRef", "unknown field", true},
		{"header match (not implemented locally)", "", "        - path:\n            type: Exact\n            value: /api/signup", "        - headers: [{name: x, value: y}]\n          path:\n            type: Exact\n            value: /api/signup", "spec.rules[0].matches[0].headers", "unknown field", true},
		{"regular expression match", "# friends", "type: Exact", "type: RegularExpression", "spec.rules[3].matches[0].path.type", "want Exact or PathPrefix", false},
		{"backend that is not a Knative Service", "# upload", "        - name: upload", "        - name: uploads", "spec.rules[7].backendRefs[0].name", `no Knative Service "uploads"`, false},
		{"rewrite host for another Service", "# inbox", "hostname: inbox.tidings.svc.cluster.local", "hostname: web.tidings.svc.cluster.local", "spec.rules[9].filters[0].urlRewrite.hostname", "Knative routes inbox by the Host", false},
		{"missing rewrite", "# web", "      filters:\n        - type: URLRewrite\n          urlRewrite:\n            hostname: web.tidings.svc.cluster.local\n", "", "spec.rules[11].filters", "want one URLRewrite", false},
		{"relative path value", "# post", "value: /api/posts", "value: api/posts", "spec.rules[5].matches[0].path.value", "must start with /", false},
		{"duplicate match", "# post", "value: /api/posts", "value: /api/friends/", "spec.rules[5].matches[0].path", "already matches in spec.rules[3]", false},
		{"wrong port", "# session", "port: 80", "port: 8080", "spec.rules[1].backendRefs[0].port", "served on port 80", false},
		// Retries (the header of infra/cluster/http-route.yaml).
		{"retry on a write", "# signup", "          port: 80\n", "          port: 80\n      retry: {codes: [502], attempts: 1, backoff: 1s}\n", "spec.rules[0].matches[0].method", "only GET or HEAD", false},
		{"retry on a 4xx", "# post, reads", "codes: [502, 503]", "codes: [502, 404]", "spec.rules[6].retry.codes[1]", "only a 5xx", false},
		{"retry backoff not a Gateway API duration", "# post, reads", "backoff: 100ms", "backoff: 1.5s", "spec.rules[6].retry.backoff", "not a Gateway API duration", false},
		{"retry attempts unset", "# inbox, reads", "        attempts: 2\n", "", "spec.rules[10].retry.attempts", "required", false},
		{"a method routed elsewhere", "# post, reads", "        - name: post\n", "        - name: friends\n", "spec.rules[6].matches[0]", "never change the backend", false},
		{"a path routed for GET only", "# upload, reads", "value: /api/files\n          method: GET", "value: /api/pictures\n          method: GET", "spec.rules[8].matches[0]", "without a method must be routed too", false},
		{"not a method", "# upload, reads", "method: GET", "method: FETCH", "spec.rules[8].matches[0].method", "not an HTTP method", false},
		{"no parent", "", "  parentRefs:\n    - name: tidings\n      sectionName: https\n", "", "spec.parentRefs", "required", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := string(shipped)
			start := strings.Index(s, tc.anchor)
			i := strings.Index(s[start:], tc.old)
			if start < 0 || i < 0 {
				t.Fatalf("%q after %q not in the route", tc.old, tc.anchor)
			}
			s = s[:start+i] + tc.new + s[start+i+len(tc.old):]
			path := filepath.Join(t.TempDir(), "http-route.yaml")
			if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := LoadRoute(path)
			if tc.failsWhenLoad {
				assertProblem(t, err, want{"http-route.yaml", "HTTPRoute", "tidings", tc.field, tc.msg})
				return
			}
			if err != nil {
				t.Fatalf("LoadRoute: %v", err)
			}
			assertProblem(t, topo.CheckRoute(r), want{"http-route.yaml", "HTTPRoute", "tidings", tc.field, tc.msg})
		})
	}

	t.Run("not an HTTPRoute", func(t *testing.T) {
		// One document, of another kind.
		path := filepath.Join(t.TempDir(), "ping.yaml")
		doc := "apiVersion: sources.knative.dev/v1\nkind: PingSource\nmetadata:\n  name: outbox-relay\n  namespace: tidings\n"
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadRoute(path)
		assertProblem(t, err, want{"ping.yaml", "", "outbox-relay", "kind", "want HTTPRoute"})
	})
	t.Run("more than one document", func(t *testing.T) {
		_, err := LoadRoute(filepath.Join(knativeDir, "sinks.yaml"))
		if err == nil || !strings.Contains(err.Error(), "exactly one HTTPRoute") {
			t.Errorf("LoadRoute(sinks.yaml) = %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := LoadRoute(filepath.Join(t.TempDir(), "nope.yaml")); err == nil {
			t.Error("LoadRoute of a missing file succeeded")
		}
	})
}

// The gateway applies the matched rule's filters, so Rule carries them.
func TestRuleCarriesTheHostRewrite(t *testing.T) {
	r, err := LoadRoute(routeFile)
	if err != nil {
		t.Fatal(err)
	}
	rule, ok := r.Rule("GET", "/api/notifications/stream")
	if !ok || rule.Backend != "inbox" || rule.RewriteHost != "inbox.tidings.svc.cluster.local" {
		t.Fatalf("Rule(/api/notifications/stream) = %+v, %v", rule, ok)
	}
}
