// Package csrf protects unsafe methods from cross-site requests, with two
// locks:
//
//  1. net/http's CrossOriginProtection: Fetch Metadata (Sec-Fetch-Site) from
//     browsers that send it, else Origin. Its Origin fallback compares Origin
//     with Host, and behind the cluster's HTTPRoute Host is the function's
//     cluster-local name, never the site's: so the site's public origins
//     (PUBLIC_URL, PUBLIC_ORIGINS) are added as trusted origins.
//  2. The header X-Requested-With: tidings. CrossOriginProtection lets a
//     request through when it carries neither Sec-Fetch-Site nor Origin (it
//     takes it for a non-browser client), which is also what a browser too
//     old to send either does with a cross-site form post, or what arrives
//     after a proxy stripped both headers. A page on another site cannot add
//     a custom header without a CORS preflight, which Tidings never grants,
//     so the header closes that gap for the cost of one header in the web app.
package csrf

import (
	"net/http"

	"github.com/tidings-dev/tidings/functions/problem"
)

// Header is the header every unsafe request must carry, with value "tidings".
const Header = "X-Requested-With"

// Guard checks unsafe requests.
type Guard struct {
	cop *http.CrossOriginProtection
}

// New returns a guard trusting the site's public origins (scheme://host[:port]).
func New(publicOrigins []string) (*Guard, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range publicOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Forbidden(w, "Cross-site requests are not allowed.")
	}))
	return &Guard{cop: cop}, nil
}

// Protect answers 403 (problem+json) to unsafe requests that are cross-site
// or lack the header.
func (g *Guard) Protect(next http.Handler) http.Handler {
	return g.cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if r.Header.Get(Header) != "tidings" {
				problem.Forbidden(w, "Missing the "+Header+": tidings header.")
				return
			}
		}
		next.ServeHTTP(w, r)
	}))
}
