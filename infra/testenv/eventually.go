package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond every 10 ms until it is true, and fails the test when
// within has passed without it: the one way tests across the repository wait
// for something another goroutine or process does.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
