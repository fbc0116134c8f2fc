package csrf

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestUnsafeMethodsNeedTheHeaderAndASameOriginRequest(t *testing.T) {
	reached := 0
	h := Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	cases := []struct {
		method, header, site string
		want                 int
	}{
		{"GET", "", "cross-site", 200}, // reads are safe
		{"HEAD", "", "", 200},
		{"POST", "tidings", "same-origin", 200},
		{"POST", "tidings", "", 200}, // older browsers and curl send no Sec-Fetch-Site
		{"DELETE", "tidings", "none", 200},
		{"POST", "", "same-origin", 403},
		{"POST", "XMLHttpRequest", "", 403},
		{"PUT", "tidings", "cross-site", 403},
		{"POST", "tidings", "same-site", 403},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, "/api/x", nil)
		if c.header != "" {
			req.Header.Set(Header, c.header)
		}
		if c.site != "" {
			req.Header.Set("Sec-Fetch-Site", c.site)
		}
		before := reached
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s header=%q site=%q: %d, want %d", c.method, c.header, c.site, rec.Code, c.want)
		}
		if c.want == 403 && (reached != before || rec.Header().Get("Content-Type") != "application/problem+json") {
			t.Errorf("%s header=%q site=%q: refused request reached the handler or is not a problem", c.method, c.header, c.site)
		}
	}
}
