package topology

import (
	"strings"
	"testing"
	"time"
)

// The fields the local stack emulates beyond names and references:
// SinkBinding ceOverrides, PingSource timezone, probe schedules.
func TestLoadReadsOverridesTimezoneAndProbeTiming(t *testing.T) {
	dir := copyShipped(t)
	applyEdit(t, dir, edit{file: "bindings.yaml", anchor: "name: signup-sink", old: "  sink:\n",
		new: "  ceOverrides:\n    extensions:\n      origin: signup\n  sink:\n"})
	applyEdit(t, dir, edit{file: "pings.yaml", old: "  schedule:", new: "  timezone: Europe/Berlin\n  schedule:"})
	topo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got := topo.SinkBinding("signup-sink").CEOverrides["origin"]; got != "signup" {
		t.Errorf("ceOverrides.extensions.origin = %q, want signup", got)
	}
	if got := topo.PingSources[0].Timezone; got != "Europe/Berlin" {
		t.Errorf("timezone = %q", got)
	}
	s := topo.Service("signup")
	want := ProbeTiming{Period: 10 * time.Second, Timeout: time.Second, FailureThreshold: 3}
	if s.Liveness != want {
		t.Errorf("liveness timing = %+v, want %+v", s.Liveness, want)
	}
	if s.Readiness.Period != 0 {
		t.Errorf("readiness period = %s, want 0 (unset: aggressive probing)", s.Readiness.Period)
	}

	applyEdit(t, dir, edit{file: "pings.yaml", old: "Europe/Berlin", new: "Mars/Olympus"})
	topo, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Check(); err == nil || !strings.Contains(err.Error(), "spec.timezone") {
		t.Fatalf("Check with a bad timezone = %v, want a spec.timezone problem", err)
	}
}
