package kafkasink

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Policy is one EventPolicy as the receiver holds it for a sink: the token
// subjects it admits (a trailing * admits any suffix) and, if any, the only
// event types it admits.
type Policy struct {
	Subjects []string
	Types    []string
}

// Protect makes the KafkaSink namespace/name demand a token for audience
// from Config.Issuer and admit only what one of policies allows, as the
// receiver does with Eventing OIDC on. A sink never protected stays open.
func (in *Ingress) Protect(namespace, name, audience string, policies []Policy) error {
	if in.issuer == nil {
		return errors.New("kafkasink: Protect needs Config.Issuer")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	s, ok := in.sinks[namespace+"/"+name]
	if !ok {
		return errors.New("kafkasink: protect " + namespace + "/" + name + ": not registered")
	}
	s.audience, s.policies = audience, policies
	in.sinks[namespace+"/"+name] = s
	return nil
}

// authenticate checks the bearer token as AuthVerifierImpl.verifyAuthN does
// (eventing-kafka-broker data-plane/receiver/.../impl/auth/AuthVerifierImpl.java):
// no header, no Bearer token or a token that fails verification is 401. It
// returns the policies the token's subject matches; none is 403
// ("Not authorized by any EventPolicy").
func (in *Ingress) authenticate(s sink, r *http.Request) ([]Policy, int, string) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, http.StatusUnauthorized, "request didn't contain a Bearer token"
	}
	claims, err := in.issuer.Verify(token, s.audience)
	if err != nil {
		return nil, http.StatusUnauthorized, "token: " + err.Error()
	}
	var matched []Policy
	for _, p := range s.policies {
		if slices.ContainsFunc(p.Subjects, func(sub string) bool { return subjectMatches(sub, claims.Subject) }) {
			matched = append(matched, p)
		}
	}
	if len(matched) == 0 {
		return nil, http.StatusForbidden, claims.Subject + " is not authorized by any EventPolicy"
	}
	return matched, 0, ""
}

// subjectMatches is ExactTokenMatcher, or PrefixTokenMatcher for a pattern
// ending in * (same directory as AuthVerifierImpl.java).
func subjectMatches(pattern, subject string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(subject, prefix)
	}
	return pattern == subject
}

// admits reports whether one of the matched policies' filters admits e, the
// second half of AuthVerifierImpl.verifyAuthZ (403 otherwise).
func admits(matched []Policy, e *event.Event) bool {
	for _, p := range matched {
		if len(p.Types) == 0 || slices.Contains(p.Types, e.Type()) {
			return true
		}
	}
	return false
}
