// Package csrf protects unsafe methods from cross-site requests. A browser
// cannot add a custom header to a cross-site request without a CORS
// preflight, which Tidings never grants; Fetch Metadata rejects the rest.
package csrf

import (
	"net/http"

	"github.com/tidings-dev/tidings/functions/internal/problem"
)

// Header is the header every unsafe request must carry, with value "tidings".
const Header = "X-Requested-With"

// Protect answers 403 to unsafe requests that lack the header or that the
// browser marks as cross-site.
func Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			problem.Forbidden(w, "Cross-site requests are not allowed.")
			return
		}
		if r.Header.Get(Header) != "tidings" {
			problem.Forbidden(w, "Missing the "+Header+": tidings header.")
			return
		}
		next.ServeHTTP(w, r)
	})
}
