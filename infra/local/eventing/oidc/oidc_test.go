package oidc

import (
	"strings"
	"testing"
	"time"
)

func TestTokensVerifyOnlyForTheirIssuerAudienceAndTime(t *testing.T) {
	iss, err := NewIssuer("https://tidings.local")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewIssuer("https://tidings.local")
	const aud = "eventing.knative.dev/kafkasink/tidings/users"
	good := iss.Mint("system:serviceaccount:tidings:relay", aud, time.Minute)
	if c, err := iss.Verify(good, aud); err != nil || c.Subject != "system:serviceaccount:tidings:relay" {
		t.Fatalf("good token: %+v %v", c, err)
	}
	parts := strings.Split(good, ".")
	for name, tok := range map[string]string{
		"another key":     other.Mint("system:serviceaccount:tidings:relay", aud, time.Minute),
		"another sink":    iss.Mint("system:serviceaccount:tidings:relay", "eventing.knative.dev/kafkasink/tidings/posts", time.Minute),
		"expired":         iss.Mint("system:serviceaccount:tidings:relay", aud, -time.Second),
		"claims swapped":  parts[0] + "." + strings.Split(iss.Mint("x", aud, time.Minute), ".")[1] + "." + parts[2],
		"not a token":     "hello",
		"unsigned (none)": "eyJhbGciOiJub25lIn0." + parts[1] + ".",
	} {
		if _, err := iss.Verify(tok, aud); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}
