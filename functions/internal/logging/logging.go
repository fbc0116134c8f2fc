// Package logging sets up structured logs: JSON lines on stdout, one per
// request or event, carrying the W3C trace id so a signup can be followed
// from the gateway through Kafka to the welcome email.
package logging

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"
)

// New returns the function's logger, tagged with its name.
func New(service string) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})).With("service", service)
}

type traceKey struct{}

// TraceID extracts the trace id from a W3C traceparent value
// ("00-<trace-id>-<span-id>-<flags>"); empty if malformed.
func TraceID(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	return parts[1]
}

// WithTraceparent stores the traceparent in ctx so events emitted while
// handling a request carry it on.
func WithTraceparent(ctx context.Context, traceparent string) context.Context {
	return context.WithValue(ctx, traceKey{}, traceparent)
}

// Traceparent returns the traceparent stored in ctx, if any.
func Traceparent(ctx context.Context) string {
	tp, _ := ctx.Value(traceKey{}).(string)
	return tp
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

// Requests logs one line per request with method, path, status, duration
// and trace id, and puts the traceparent into the request context.
func Requests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		tp := r.Header.Get("traceparent")
		if tp == "" {
			tp = r.Header.Get("ce-traceparent")
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(WithTraceparent(r.Context(), tp)))
		if r.URL.Path == "/livez" || r.URL.Path == "/readyz" { // probes, several a second
			return
		}
		log.LogAttrs(r.Context(), levelFor(rec.status), "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("trace_id", TraceID(tp)),
		)
	})
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}
