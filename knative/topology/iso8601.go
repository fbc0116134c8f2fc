package topology

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// ParseISO8601Duration parses an ISO-8601 duration such as PT0.2S, PT10S, PT1M,
// P1D or P1DT12H, the format Knative uses for delivery.backoffDelay and
// delivery.timeout. Go-style durations ("5s") are rejected.
//
// Years and months are rejected because they have no fixed length. Weeks are 7
// days and days are 24 hours. Only the last component may have a fraction ("." or
// ","), as ISO-8601 requires. Negative durations are rejected.
func ParseISO8601Duration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s[0] != 'P' {
		return 0, fmt.Errorf("%q is not an ISO-8601 duration (want e.g. PT0.5S, PT10S, PT1M, P1D)", s)
	}
	rest := s[1:]
	if rest == "" {
		return 0, fmt.Errorf("%q has no components", s)
	}

	// Units in the order they must appear; date units before T, time units after.
	type unit struct {
		designator byte
		timePart   bool
		size       time.Duration
	}
	units := []unit{
		{'W', false, 7 * 24 * time.Hour},
		{'D', false, 24 * time.Hour},
		{'H', true, time.Hour},
		{'M', true, time.Minute},
		{'S', true, time.Second},
	}

	total := new(big.Rat)
	next := 0 // index into units: components must come in order, each at most once
	inTime := false
	components := 0
	sawTimeComponent := false
	fractionSeen := false

	for len(rest) > 0 {
		if rest[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("%q has more than one T", s)
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return 0, fmt.Errorf("%q has a T with no time components after it", s)
			}
			continue
		}
		if fractionSeen {
			return 0, fmt.Errorf("%q: only the last component may have a fraction", s)
		}
		// The number: digits, optionally one fraction separator and more digits.
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		intDigits := i
		fracDigits := 0
		if i < len(rest) && (rest[i] == '.' || rest[i] == ',') {
			i++
			j := i
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			fracDigits = i - j
			if fracDigits == 0 {
				return 0, fmt.Errorf("%q: a fraction separator needs digits after it", s)
			}
			fractionSeen = true
		}
		if intDigits == 0 {
			return 0, fmt.Errorf("%q: expected a number at %q", s, rest)
		}
		if i >= len(rest) {
			return 0, fmt.Errorf("%q: number %q has no unit designator", s, rest)
		}
		number := strings.Replace(rest[:i], ",", ".", 1)
		d := rest[i]
		rest = rest[i+1:]

		if d == 'Y' || (d == 'M' && !inTime) {
			return 0, fmt.Errorf("%q: years and months have no fixed length; use weeks, days or smaller", s)
		}
		found := -1
		for k := next; k < len(units); k++ {
			if units[k].designator == d && units[k].timePart == inTime {
				found = k
				break
			}
		}
		if found < 0 {
			return 0, fmt.Errorf("%q: unit %q is unknown, repeated, out of order, or on the wrong side of T", s, string(d))
		}
		next = found + 1
		components++
		if inTime {
			sawTimeComponent = true
		}
		value, ok := new(big.Rat).SetString(number)
		if !ok {
			return 0, fmt.Errorf("%q: bad number %q", s, number)
		}
		total.Add(total, value.Mul(value, new(big.Rat).SetInt64(int64(units[found].size))))
	}
	if components == 0 || (inTime && !sawTimeComponent) {
		return 0, fmt.Errorf("%q has no components", s)
	}
	// Truncate to whole nanoseconds; anything finer cannot be represented.
	ns := new(big.Int).Quo(total.Num(), total.Denom())
	if !ns.IsInt64() {
		return 0, fmt.Errorf("%q is too long to represent", s)
	}
	return time.Duration(ns.Int64()), nil
}
