package topology

import (
	"fmt"
	"time"

	"github.com/rickb777/date/period"
)

// ParseISO8601Duration parses an ISO-8601 duration such as PT0.5S, PT10S,
// PT1M or P1D, the format of delivery.backoffDelay and delivery.timeout, with
// the parser Knative validates them with (knative/eventing
// pkg/apis/duck/v1/delivery_types.go) and converts them to a duration
// (DurationApprox: days of 24 h, years of 365.2425 days). Go-style durations
// ("5s") and negative durations are rejected.
func ParseISO8601Duration(s string) (time.Duration, error) {
	p, err := period.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an ISO-8601 duration (want e.g. PT0.5S, PT10S, PT1M, P1D): %v", s, err)
	}
	if p.IsNegative() {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return p.DurationApprox(), nil
}
