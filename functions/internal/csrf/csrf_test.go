package csrf

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The cluster's HTTPRoute rewrites Host to the Service's cluster-local name
// (infra/cluster/http-route.yaml); the browser's Origin stays the site's.
const rewrittenHost = "signup.tidings.svc.cluster.local"

type request struct {
	method, header, site, origin string
}

func check(t *testing.T, g *Guard, host string, cases map[request]int) {
	t.Helper()
	reached := 0
	h := g.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	for c, want := range cases {
		req := httptest.NewRequest(c.method, "/api/x", nil)
		req.Host = host
		for k, v := range map[string]string{Header: c.header, "Sec-Fetch-Site": c.site, "Origin": c.origin} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		before := reached
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s, %+v: %d, want %d", host, c, rec.Code, want)
		}
		if want == 403 && (reached != before || rec.Header().Get("Content-Type") != "application/problem+json") {
			t.Errorf("Host %s, %+v: refused request reached the handler or is not a problem", host, c)
		}
	}
}

func guard(t *testing.T, origins ...string) *Guard {
	t.Helper()
	g, err := New(origins)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestUnsafeMethodsNeedTheHeaderAndASameOriginRequest(t *testing.T) {
	check(t, guard(t, "http://localhost:8080"), "localhost:8080", map[request]int{
		{"GET", "", "cross-site", "https://evil.example"}:               200, // reads are safe
		{"HEAD", "", "", ""}:                                            200,
		{"POST", "tidings", "same-origin", ""}:                          200,
		{"POST", "tidings", "", ""}:                                     200, // curl: neither Sec-Fetch-Site nor Origin
		{"DELETE", "tidings", "none", ""}:                               200,
		{"POST", "", "same-origin", ""}:                                 403,
		{"POST", "", "", ""}:                                            403, // what CrossOriginProtection alone lets through
		{"POST", "XMLHttpRequest", "", ""}:                              403,
		{"PUT", "tidings", "cross-site", "https://evil.example"}:        403,
		{"POST", "tidings", "same-site", "http://other.localhost:8080"}: 403,
		{"POST", "tidings", "", "https://evil.example"}:                 403, // an old browser: Origin only
	})
}

// Behind the Host rewrite Origin never equals Host: the site's own pages are
// recognised by the trusted public origin, strangers are still refused.
func TestBehindTheHostRewriteThePublicOriginIsTrusted(t *testing.T) {
	check(t, guard(t, "https://tidings.example"), rewrittenHost, map[request]int{
		{"POST", "tidings", "same-origin", "https://tidings.example"}: 200,
		{"POST", "tidings", "", "https://tidings.example"}:            200, // an old browser: Origin only
		{"POST", "tidings", "cross-site", "https://evil.example"}:     403,
		{"POST", "tidings", "", "https://evil.example"}:               403,
		{"POST", "tidings", "", "http://tidings.example"}:             403, // not the https site
	})
	// Without the trusted origin the site's own old-browser requests would be
	// refused behind the rewrite.
	check(t, guard(t), rewrittenHost, map[request]int{
		{"POST", "tidings", "", "https://tidings.example"}: 403,
	})
}

func TestNewRefusesAMalformedOrigin(t *testing.T) {
	if _, err := New([]string{"tidings.example"}); err == nil {
		t.Fatal("an origin without a scheme was accepted")
	}
}
