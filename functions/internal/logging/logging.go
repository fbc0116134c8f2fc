// Package logging sets up structured logs: JSON lines on stdout, one per
// request or event, carrying the trace and span ids of the context they are
// logged with, so a signup can be followed from the gateway through Kafka to
// the welcome email, in the logs as in the trace backend.
package logging

import (
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/tidings-dev/tidings/functions/telemetry"
)

// New returns the function's logger, tagged with its name.
func New(service string) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))).With("service", service)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (WebSocket hijack, flush).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Requests logs one line per request with method, path, status and
// duration (and, from the request's context, its trace and span ids).
func Requests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if r.URL.Path == "/livez" || r.URL.Path == "/readyz" { // probes, several a second
			return
		}
		log.LogAttrs(r.Context(), levelFor(rec.status), "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
		)
	})
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
