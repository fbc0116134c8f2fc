package topology

import (
	"strings"
	"testing"
	"time"
)

func TestParseISO8601Duration(t *testing.T) {
	good := []struct {
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
		{"PT0.000000001S", time.Nanosecond},
		{"PT0.0000000015S", time.Nanosecond}, // truncated below a nanosecond
	}
	for _, tc := range good {
		got, err := ParseISO8601Duration(tc.in)
		if err != nil {
			t.Errorf("ParseISO8601Duration(%q) error: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseISO8601Duration(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}

	bad := []struct {
		in      string
		wantMsg string
	}{
		{"", "empty"},
		{"5s", "not an ISO-8601 duration"},
		{"10", "not an ISO-8601 duration"},
		{"pt1s", "not an ISO-8601 duration"},
		{"P", "no components"},
		{"PT", "no time components"},
		{"P1DT", "no time components"},
		{"PT1s", "unit"},
		{"P1H", "unit"},    // hours need the T
		{"PT1D", "unit"},   // days must come before T
		{"PT1S1M", "unit"}, // out of order
		{"PT1M1M", "unit"}, // repeated
		{"PT1X", "unit"},   // unknown designator
		{"P1Y", "no fixed length"},
		{"P1M", "no fixed length"}, // M before T is months
		{"PT.5S", "expected a number"},
		{"PT1.S", "needs digits"},
		{"PT0.5M1S", "only the last component"},
		{"PT10", "no unit designator"},
		{"-PT1S", "not an ISO-8601 duration"},
		{"PTT1S", "more than one T"},
		{"PT1ST", "more than one T"},
		{"PT99999999999999999999S", "too long"},
		{" PT1S", "not an ISO-8601 duration"},
	}
	for _, tc := range bad {
		got, err := ParseISO8601Duration(tc.in)
		if err == nil {
			t.Errorf("ParseISO8601Duration(%q) = %v, want an error", tc.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantMsg) {
			t.Errorf("ParseISO8601Duration(%q) error %q, want it to mention %q", tc.in, err, tc.wantMsg)
		}
	}
}
