package topology

import (
	"strings"
	"testing"
	"time"
)

// What Knative's parser accepts, and the duration Knative derives.
func TestParseISO8601Duration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"PT0.2S", 200 * time.Millisecond},
		{"PT0,5S", 500 * time.Millisecond},
		{"PT0.3S", 300 * time.Millisecond},
		{"PT10S", 10 * time.Second},
		{"PT600S", 10 * time.Minute},
		{"PT1M", time.Minute},
		{"PT1.5M", 90 * time.Second},
		{"PT2H", 2 * time.Hour},
		{"PT1H30M15S", time.Hour + 30*time.Minute + 15*time.Second},
		{"P1D", 24 * time.Hour},
		{"P1DT12H", 36 * time.Hour},
		{"P2W", 14 * 24 * time.Hour},
		{"PT0S", 0},
		{"P0", 0},
		// Knative accepts calendar units and approximates them.
		{"P1M", 730*time.Hour + 29*time.Minute + 6*time.Second},
	} {
		got, err := ParseISO8601Duration(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseISO8601Duration(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
}

func TestParseISO8601DurationRejects(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{"", "not an ISO-8601 duration"},
		{"5s", "not an ISO-8601 duration"},
		{"10", "not an ISO-8601 duration"},
		{"P", "not an ISO-8601 duration"},
		{"PT", "not an ISO-8601 duration"},
		{"PT1s", "not an ISO-8601 duration"},
		{"P1H", "not an ISO-8601 duration"}, // hours need the T
		{"PT1D", "not an ISO-8601 duration"},
		{"PT1X", "not an ISO-8601 duration"},
		{"PTT1S", "not an ISO-8601 duration"},
		{"PT10", "not an ISO-8601 duration"},
		{" PT1S", "not an ISO-8601 duration"},
		{"PT99999999999999999999S", "not an ISO-8601 duration"},
		{"-PT1S", "negative"},
	} {
		got, err := ParseISO8601Duration(c.in)
		if err == nil {
			t.Errorf("ParseISO8601Duration(%q) = %s, want an error", c.in, got)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseISO8601Duration(%q) error %q, want it to mention %q", c.in, err, c.msg)
		}
	}
}
