package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestOfTrustsOnlyTheConfiguredHops(t *testing.T) {
	for _, c := range []struct {
		xff  []string
		hops int
		want string
	}{
		{nil, 1, "192.0.2.9"},                                            // no proxy: the peer
		{[]string{"198.51.100.7"}, 1, "198.51.100.7"},                    // the gateway's entry
		{[]string{"6.6.6.6, 198.51.100.7"}, 1, "198.51.100.7"},           // a forged entry left of it is ignored
		{[]string{"6.6.6.6", "198.51.100.7"}, 1, "198.51.100.7"},         // split over header lines
		{[]string{"6.6.6.6, 198.51.100.7, 10.0.0.2"}, 2, "198.51.100.7"}, // two proxies
		{[]string{"198.51.100.7"}, 2, "192.0.2.9"},                       // fewer entries than hops: not via our proxies
		{[]string{"6.6.6.6"}, 0, "192.0.2.9"},                            // hops 0: never read the header
		{[]string{"not-an-ip"}, 1, "192.0.2.9"},
		{[]string{"2001:db8::1"}, 1, "2001:db8::1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.9:5555"
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := Of(r, c.hops); got != c.want {
			t.Errorf("XFF %q hops %d: %s, want %s", c.xff, c.hops, got, c.want)
		}
	}
}

func TestNetworkGroupsAnIPv6SlashSixtyFour(t *testing.T) {
	for addr, want := range map[string]string{
		"198.51.100.7":          "198.51.100.7",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":  "2001:db8:1:2::/64",
		"::ffff:198.51.100.7":   "::ffff:198.51.100.7",
		"not an address at all": "not an address at all",
	} {
		if got := Network(addr); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
}
