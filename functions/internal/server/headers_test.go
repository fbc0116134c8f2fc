package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
)

// Every response Serve sends, the function's own (success, error, hijack-
// free 204) and the probes', says nosniff.
func TestEveryResponseSaysNoSniff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.NewServeMux()
	h.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }) //nolint:errcheck
	h.HandleFunc("POST /empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, slog.New(slog.NewTextHandler(io.Discard, nil)), h, Options{}) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + ln.Addr().String()
	for _, c := range []struct{ method, path string }{{"GET", "/json"}, {"POST", "/empty"}, {"GET", "/nowhere"}, {"GET", LivePath}, {"GET", ReadyPath}} {
		req, _ := http.NewRequest(c.method, base+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q", c.method, c.path, res.StatusCode, got)
		}
	}
}
