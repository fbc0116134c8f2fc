// Package clientip names the client a request came from, for per-client
// limits. Behind proxies the peer address is the last proxy's, so the client
// is read from X-Forwarded-For — but only as far as trusted proxies wrote
// it: every proxy appends the address it received from, so the last hops
// entries were written by our own proxies and anything left of them is
// whatever the client sent, which it can forge.
package clientip

import (
	"net"
	"net/http"
	"strings"

	"github.com/tidings-dev/tidings/functions/internal/config"
)

// HopsFromEnv reads TRUSTED_PROXY_HOPS: how many proxies in front of the
// function append to X-Forwarded-For. The default, 1, is the local stack's
// gateway (infra/local/serving/service.go appends the peer with
// httputil.ProxyRequest.SetXForwarded); a cluster sets what its path has.
func HopsFromEnv() (int, error) {
	return config.Int("TRUSTED_PROXY_HOPS", 1)
}

// Of returns the client address of r: the hops-th X-Forwarded-For entry
// from the right, or the peer address when there are fewer entries than
// hops (no proxy, or hops is 0).
func Of(r *http.Request, hops int) string {
	var entries []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, e := range strings.Split(h, ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	if hops > 0 && len(entries) >= hops {
		if ip := net.ParseIP(entries[len(entries)-hops]); ip != nil {
			return ip.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Network is the unit a per-client limit counts: the address itself for
// IPv4, its /64 for IPv6, since one IPv6 client commonly holds a whole /64
// and could otherwise take a fresh allowance per address.
func Network(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}
