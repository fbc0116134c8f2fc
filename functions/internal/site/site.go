// Package site is the public address of Tidings as browsers see it:
// PUBLIC_URL (default the local gateway, http://localhost:8080) and any
// extra origins in PUBLIC_ORIGINS (comma-separated). Functions decide
// origin checks and the cookie's Secure flag from it, never from the Host
// header: behind the cluster's HTTPRoute (infra/cluster/http-route.yaml)
// every request arrives with Host rewritten to the function's cluster-local
// name.
package site

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Site is where browsers reach Tidings.
type Site struct {
	url     *url.URL
	origins []string // normalised scheme://host[:port]; the first is URL's
}

// Parse reads the public URL and the extra origins (comma-separated, may be
// empty).
func Parse(publicURL, extraOrigins string) (Site, error) {
	u, err := parseOrigin(publicURL, true)
	if err != nil {
		return Site{}, fmt.Errorf("PUBLIC_URL: %w", err)
	}
	s := Site{url: u, origins: []string{origin(u)}}
	for _, o := range strings.Split(extraOrigins, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		v, err := parseOrigin(o, false)
		if err != nil {
			return Site{}, fmt.Errorf("PUBLIC_ORIGINS: %w", err)
		}
		if o := origin(v); !slices.Contains(s.origins, o) {
			s.origins = append(s.origins, o)
		}
	}
	return s, nil
}

func parseOrigin(raw string, pathOK bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q: want scheme://host[:port]", raw)
	}
	if !pathOK && u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("%q: an origin has no path", raw)
	}
	return u, nil
}

// origin is scheme://host[:port] as a browser sends it in Origin: lower
// case, without the scheme's default port.
func origin(u *url.URL) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if p := u.Port(); p != "" && !(scheme == "http" && p == "80") && !(scheme == "https" && p == "443") {
		host += ":" + p
	}
	return scheme + "://" + host
}

// URL is the public URL.
func (s Site) URL() string { return s.url.String() }

// Secure reports whether browsers reach the site over HTTPS, so cookies
// must be Secure.
func (s Site) Secure() bool { return s.url.Scheme == "https" }

// Origins lists the origins pages of the site are served from.
func (s Site) Origins() []string { return slices.Clone(s.origins) }

// Allows reports whether an Origin header names one of the site's origins.
func (s Site) Allows(originHeader string) bool {
	u, err := parseOrigin(originHeader, false)
	return err == nil && slices.Contains(s.origins, origin(u))
}
