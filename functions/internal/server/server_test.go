package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// On shutdown the server stops taking requests but lets one in flight
// finish, then runs OnShutdown.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished") //nolint:errcheck
	})
	ctx, cancel := context.WithCancel(context.Background())
	shutdownRan := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, slog.New(slog.NewTextHandler(io.Discard, nil)), h, Options{
			OnShutdown: func(context.Context) { close(shutdownRan) },
		})
	}()
	url := "http://" + ln.Addr().String()
	got := make(chan string, 1)
	go func() {
		res, err := http.Get(url + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel() // as SIGTERM would
	select {
	case <-shutdownRan:
		t.Fatal("OnShutdown ran while a request was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-shutdownRan
	if _, err := http.Get(url + "/"); err == nil {
		t.Fatal("the server still takes requests after shutdown")
	}
}

// Readiness follows Ready; liveness stays 200 whatever Ready says, so an
// outage of a backing service never restarts the pod.
func TestReadyzFollowsReadyAndLivezDoesNot(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	var down atomic.Bool
	down.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, ln, slog.New(slog.NewTextHandler(io.Discard, nil)), http.NotFoundHandler(), Options{ //nolint:errcheck
		Ready: func(context.Context) error {
			if down.Load() {
				return errors.New("postgres: down")
			}
			return nil
		},
	})
	base := "http://" + ln.Addr().String()
	status := func(path string) int {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("readyz with Postgres down: %d", got)
	}
	if got := status("/livez"); got != http.StatusOK {
		t.Fatalf("livez with Postgres down: %d, want 200 (the process is fine)", got)
	}
	down.Store(false)
	if got := status("/readyz"); got != http.StatusOK {
		t.Fatalf("readyz when ready: %d", got)
	}
	if got := status("/livez"); got != http.StatusOK {
		t.Fatalf("livez when ready: %d", got)
	}
}
