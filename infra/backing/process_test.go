package backing

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A child that runs but never becomes ready is killed when the deadline
// passes, and the error quotes what it printed.
func TestChildNeverReadyIsKilled(t *testing.T) {
	c, err := startChild(childSpec{
		name:       "sleeper",
		path:       "/bin/sh",
		args:       []string{"-c", "echo sleeping forever; exec sleep 600"},
		logPath:    filepath.Join(t.TempDir(), "sleeper.log"),
		stopSignal: syscall.SIGTERM,
	})
	if err != nil {
		t.Fatal(err)
	}
	notReady := errors.New("still not ready")
	err = c.waitReady(context.Background(), 500*time.Millisecond, func(context.Context) error { return notReady })
	if err == nil {
		t.Fatal("waitReady succeeded for a check that always fails")
	}
	if !errors.Is(err, notReady) || !strings.Contains(err.Error(), "sleeping forever") {
		t.Fatalf("error should wrap the last check error and quote the log, got %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("child still running after a failed start")
	}
}

func TestChildStartCancelledByContext(t *testing.T) {
	c, err := startChild(childSpec{
		name: "sleeper", path: "/bin/sh", args: []string{"-c", "exec sleep 600"},
		logPath: filepath.Join(t.TempDir(), "sleeper.log"), stopSignal: syscall.SIGTERM,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = c.waitReady(ctx, time.Minute, func(context.Context) error { return errors.New("no") })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the context's error, got %v", err)
	}
	select {
	case <-c.done:
	default:
		t.Fatal("child still running after cancelled start")
	}
}

// stop kills a child that ignores its stop signal once ctx runs out.
func TestChildStopEscalatesToKill(t *testing.T) {
	c, err := startChild(childSpec{
		name: "stubborn", path: "/bin/sh", args: []string{"-c", "trap '' TERM; echo up; while :; do sleep 1; done"},
		logPath: filepath.Join(t.TempDir(), "stubborn.log"), stopSignal: syscall.SIGTERM,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the trap is installed, i.e. the shell has printed.
	if err := c.waitReady(context.Background(), 10*time.Second, func(context.Context) error {
		if strings.Contains(c.tail.lastLines(5), "up") {
			return nil
		}
		return errors.New("not up")
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.stop(ctx); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("want a 'killed' error, got %v", err)
	}
	select {
	case <-c.done:
	default:
		t.Fatal("child survived stop")
	}
}
