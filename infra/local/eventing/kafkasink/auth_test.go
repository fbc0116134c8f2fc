package kafkasink

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/infra/local/eventing/internal/kafkatest"
	"github.com/tidings-dev/tidings/infra/local/eventing/oidc"
)

// A protected sink answers as the receiver with Eventing OIDC on: 401
// without a valid token for its audience, 403 for a subject or an event type
// no EventPolicy admits, 202 for its producer's own events.
func TestProtectedSinkAdmitsOnlyItsProducers(t *testing.T) {
	b := kafkatest.Start(t, 1, "tidings.users")
	iss, err := oidc.NewIssuer("https://tidings.local")
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewIngress(Config{Brokers: b.Brokers(), Logger: quietLogger(), ProduceTimeout: 3 * time.Second, Issuer: iss})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	const aud = "eventing.knative.dev/kafkasink/tidings/users"
	signup := "system:serviceaccount:tidings:signup-sink-oidc-sources.knative.dev-sinkbinding"
	if err := in.Register("tidings", "users", "tidings.users", "binary"); err != nil {
		t.Fatal(err)
	}
	if err := in.Protect("tidings", "users", aud, []Policy{{Subjects: []string{signup, "system:serviceaccount:tidings:relay*"}, Types: []string{"dev.tidings.user.signedup.v1"}}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	other, _ := oidc.NewIssuer("https://tidings.local")
	cases := []struct {
		name, auth string
		headers    map[string]string
		want       int
	}{
		{"no token", "", nil, http.StatusUnauthorized},
		{"not a bearer token", "Basic YTpi", nil, http.StatusUnauthorized},
		{"a token from another issuer", "Bearer " + other.Mint(signup, aud, time.Minute), nil, http.StatusUnauthorized},
		{"a token for another sink", "Bearer " + iss.Mint(signup, "eventing.knative.dev/kafkasink/tidings/posts", time.Minute), nil, http.StatusUnauthorized},
		{"an expired token", "Bearer " + iss.Mint(signup, aud, -time.Second), nil, http.StatusUnauthorized},
		{"another producer", "Bearer " + iss.Mint("system:serviceaccount:tidings:friends-sink-oidc-sources.knative.dev-sinkbinding", aud, time.Minute), nil, http.StatusForbidden},
		{"its producer, another type", "Bearer " + iss.Mint(signup, aud, time.Minute), map[string]string{"Ce-Type": "dev.tidings.post.created.v1"}, http.StatusForbidden},
		{"its producer", "Bearer " + iss.Mint(signup, aud, time.Minute), nil, http.StatusAccepted},
		{"the relay (prefix match)", "Bearer " + iss.Mint("system:serviceaccount:tidings:relay", aud, time.Minute), nil, http.StatusAccepted},
	}
	for _, c := range cases {
		req := binaryRequest(t, srv.URL+"/tidings/users", "evt-"+c.name, c.headers)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		if code, body := do(t, req); code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
	if got := len(b.Read("tidings.users", 2, 10*time.Second)); got != 2 {
		t.Fatalf("%d records, want the 2 admitted", got)
	}
}
