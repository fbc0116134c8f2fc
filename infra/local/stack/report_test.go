package stack_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// verdict is one row of the security report: what a case must give, what
// the stack gave, and whether that is a pass.
type verdict struct {
	name, expected, observed string
	ok                       bool
}

// report collects the rows of a security run, prints them as a table and
// writes them to $TIDINGS_REPORT_DIR (or the test's temp dir) as
// security-report.md, so CI keeps the figures without writing into the tree.
type report struct {
	mu   sync.Mutex
	rows []verdict
}

// record adds a row and fails t when the observation is not what was
// expected.
func (r *report) record(t *testing.T, v verdict) {
	t.Helper()
	r.mu.Lock()
	r.rows = append(r.rows, v)
	r.mu.Unlock()
	if !v.ok {
		t.Errorf("%s: expected %s, observed %s", v.name, v.expected, v.observed)
	}
}

func (r *report) markdown() string {
	var b strings.Builder
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	fmt.Fprintf(&b, "# Security report\n\nProduced by `go -C infra/local test -count=1 -p 1 -run TestSecurity ./stack/` at commit %s on %s.\n",
		strings.TrimSpace(string(commit)), time.Now().UTC().Format(time.RFC3339))
	b.WriteString("\n| case | expected | observed | result |\n|---|---|---|---|\n")
	for _, v := range r.rows {
		result := "pass"
		if !v.ok {
			result = "FAIL"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(v.name), cell(v.expected), cell(v.observed), result)
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

// write prints the table to the test log and saves it as a file.
func (r *report) write(t *testing.T) {
	md := r.markdown()
	t.Log("\n" + md)
	dir := os.Getenv("TIDINGS_REPORT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "security-report.md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		t.Errorf("writing the report: %v", err)
		return
	}
	t.Logf("security report written to %s", path)
}

// within polls cond for up to d and reports whether it became true; unlike
// eventually it does not fail, since a case records what it saw.
func within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
