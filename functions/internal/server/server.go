// Package server runs a function's HTTP server the way Knative expects: it
// listens on $PORT, answers health probes, traces and logs every request
// (the probes are neither traced nor logged), and when its
// context ends (app.Main ends it on SIGTERM) stops taking requests, finishes
// those in flight, then runs the function's own shutdown (for example
// waiting for outbox sends).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/tidings-dev/tidings/functions/internal/logging"
	"github.com/tidings-dev/tidings/functions/telemetry"
)

// The probe paths every Service's manifest names (knative/services.yaml).
const (
	LivePath  = "/livez"
	ReadyPath = "/readyz"
)

// readyTimeout bounds one readiness check, so a hung dependency answers
// "not ready" rather than a probe timeout.
const readyTimeout = 2 * time.Second

// Options tune Serve.
type Options struct {
	// Ready reports whether the function can serve (backing services up).
	Ready func(ctx context.Context) error
	// OnShutdown runs after the server stopped taking requests.
	OnShutdown func(ctx context.Context)
	// Grace bounds the whole shutdown.
	Grace time.Duration
}

// Listen opens the port Knative gives the container: $PORT, default 8080.
func Listen() (net.Listener, error) {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return nil, fmt.Errorf("listen :%s: %w", port, err)
	}
	return ln, nil
}

// Serve serves h on ln until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, ln net.Listener, log *slog.Logger, h http.Handler, opts Options) error {
	if opts.Grace == 0 {
		opts.Grace = 20 * time.Second
	}
	mux := http.NewServeMux()
	// Liveness answers from the process alone: a backing service being
	// down must not make the kubelet restart a pod that would work again
	// once the service is back. Readiness checks the dependencies, so
	// traffic goes only to pods that can serve it now.
	mux.HandleFunc("GET "+LivePath, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok")) //nolint:errcheck
	})
	mux.HandleFunc("GET "+ReadyPath, func(w http.ResponseWriter, r *http.Request) {
		if opts.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := opts.Ready(ctx); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("ok")) //nolint:errcheck
	})
	mux.Handle("/", h)
	srv := &http.Server{
		// The span is outermost, so the request's log line carries its ids.
		Handler:           telemetry.Server(otel.GetTracerProvider(), logging.Requests(log, noSniff(mux)), LivePath, ReadyPath),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), opts.Grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if opts.OnShutdown != nil {
		opts.OnShutdown(sctx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
