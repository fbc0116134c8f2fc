// Package app is the runtime every function runs in, in the spirit of
// Knative Functions' instanced templates (knative/func
// templates/go/scaffolding/instanced-cloudevents/main.go): a function is a
// type with a constructor, New(*App), and the runtime owns the rest —
// connections, the HTTP server, health probes, signals and draining. It calls
// the optional lifecycle hooks (Starter, Readier, Stopper) when the function
// has them. Knative gives a function PORT, K_SERVICE and (through a
// SinkBinding) K_SINK; the rest comes from the tidings-config ConfigMap,
// locally defaulted to the local stack.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/csrf"
	"github.com/tidings-dev/tidings/functions/internal/logging"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/functions/internal/server"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/internal/site"
	"github.com/tidings-dev/tidings/functions/problem"
	"github.com/tidings-dev/tidings/functions/telemetry"
)

// Needs says which backing services a function uses, and so which of them
// its readiness depends on.
type Needs struct {
	// Sessions: Redis-backed sessions. Readiness checks Redis: a function
	// that cannot check a session cannot serve a request.
	Sessions bool
	// Redis: a Redis client for best-effort work (live channels). Not part
	// of readiness: a Redis outage only delays what it carries.
	Redis bool
	// Sink: the function emits events, so it needs K_SINK.
	Sink bool
}

// App is a running function's shared dependencies.
type App struct {
	Name     string
	Log      *slog.Logger
	Pool     *pgxpool.Pool
	Redis    *redis.Client  // nil unless Needs.Redis or Needs.Sessions
	Sessions *session.Store // nil unless Needs.Sessions
	Outbox   *outbox.Outbox
	// Site is the public address browsers use, for origin checks and the
	// cookie's Secure flag (never the Host header).
	Site site.Site

	csrf          *csrf.Guard
	sinkMissing   bool        // Needs.Sink without K_SINK: never ready
	schemaCurrent atomic.Bool // seen once, true for good: migrations only add
}

var errNoSink = errors.New("K_SINK is not set: this function emits events and waits for its SinkBinding")

// Settings locate the backing services and the public site.
type Settings struct {
	DatabaseURL, RedisURL string
	// Sink is where emitted events go: K_SINK, set by the SinkBinding.
	Sink string
	// PublicURL is where browsers reach the site (default
	// config.DefaultPublicURL); PublicOrigins lists more origins pages may
	// come from, comma-separated.
	PublicURL, PublicOrigins string
	// Tokens locate the OIDC token(s) sends present to sinks:
	// OIDC_TOKEN_FILE (default outbox.DefaultTokenFile, a SinkBinding's)
	// and OIDC_TOKEN_DIR (one token per sink, the relay's).
	Tokens outbox.Tokens
}

// SettingsFromEnv reads DATABASE_URL, REDIS_URL, K_SINK, PUBLIC_URL,
// PUBLIC_ORIGINS, OIDC_TOKEN_FILE and OIDC_TOKEN_DIR, defaulting to the
// local stack.
func SettingsFromEnv() Settings {
	return Settings{
		DatabaseURL:   config.String("DATABASE_URL", config.DefaultDatabaseURL),
		RedisURL:      config.String("REDIS_URL", config.DefaultRedisURL),
		Sink:          os.Getenv("K_SINK"),
		PublicURL:     config.String("PUBLIC_URL", config.DefaultPublicURL),
		PublicOrigins: os.Getenv("PUBLIC_ORIGINS"),
		Tokens:        outbox.Tokens{File: config.String("OIDC_TOKEN_FILE", outbox.DefaultTokenFile), Dir: os.Getenv("OIDC_TOKEN_DIR")},
	}
}

// New prepares the pools for Postgres (and Redis) and the outbox for the
// sink. Nothing here waits for a backing service or changes the schema: the
// release's migrate Job does that once, and Ready reports what is missing.
func New(ctx context.Context, name string, needs Needs, s Settings) (*App, error) {
	a := &App{Name: name, Log: logging.New(name)}
	if s.PublicURL == "" {
		s.PublicURL = config.DefaultPublicURL
	}
	var err error
	if a.Site, err = site.Parse(s.PublicURL, s.PublicOrigins); err != nil {
		return nil, err
	}
	if a.csrf, err = csrf.New(a.Site.Origins()); err != nil {
		return nil, err
	}
	pool, err := pg.Open(s.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.Pool = pool
	if needs.Redis || needs.Sessions {
		// The client connects on first use: Redis being down does not
		// stop a function from starting.
		opts, err := redis.ParseURL(s.RedisURL)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		a.Redis = redis.NewClient(opts)
	}
	if needs.Sessions {
		a.Sessions = session.NewStore(a.Redis)
		a.Sessions.Secure = a.Site.Secure()
	}
	if needs.Sink && s.Sink == "" {
		// On a first deploy the Service starts before its SinkBinding
		// patches K_SINK in (a new revision): stay up and not ready, so that
		// revision gets no traffic, instead of crash-looping.
		a.sinkMissing = true
		a.Log.Warn(errNoSink.Error())
	}
	if a.Outbox, err = outbox.New(pool, s.Sink, a.Log); err != nil {
		a.Close()
		return nil, err
	}
	a.Outbox.Tokens = s.Tokens
	return a, nil
}

// Ready checks the backing services the function cannot serve without, for
// the readiness probe.
func (a *App) Ready(ctx context.Context) error {
	if a.sinkMissing {
		return errNoSink
	}
	if err := a.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if !a.schemaCurrent.Load() {
		if err := pg.CheckSchema(ctx, a.Pool); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		a.schemaCurrent.Store(true)
	}
	if a.Sessions != nil {
		if err := a.Redis.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
	}
	return nil
}

// Close releases the connections.
func (a *App) Close() {
	if a.Redis != nil {
		a.Redis.Close()
	}
	if a.Pool != nil {
		a.Pool.Close()
	}
}

// The optional lifecycle hooks, after knative/func's instanced templates
// (knative-extensions/func-go http/instance.go): a function implements the
// ones it needs, and the runtime calls them.
type (
	// Starter runs once before the function takes requests; an error stops
	// the process.
	Starter interface {
		Start(ctx context.Context) error
	}
	// Readier adds the function's own check to the readiness probe.
	Readier interface {
		Ready(ctx context.Context) error
	}
	// Stopper runs on shutdown, after the server stopped taking requests and
	// before the connections close.
	Stopper interface {
		Stop(ctx context.Context) error
	}
)

// Main runs a function until SIGTERM: it is the whole of a function's main.
// It exits the process with status 1 when the function cannot start.
//
// Tracing is set up first, from the OTEL_* environment (functions/telemetry):
// every function's requests, events and outbox sends are traced, and the
// spans still buffered are flushed after the last request drained.
func Main[F http.Handler](name string, needs Needs, build func(*App) (F, error)) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := func() error {
		tp, err := telemetry.NewProvider(name)
		if err != nil {
			return fmt.Errorf("tracing: %w", err)
		}
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(telemetry.Propagator)
		// A batch the collector did not take is a warning in the function's
		// own JSON log, not a line in the SDK's format.
		log := logging.New(name)
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing: spans not exported", "err", err) }))
		defer func() {
			fctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
			defer cancel()
			if err := tp.Shutdown(fctx); err != nil {
				log.Warn("tracing: spans not flushed", "err", err)
			}
		}()
		ln, err := server.Listen()
		if err != nil {
			return err
		}
		return Run(ctx, ln, name, needs, SettingsFromEnv(), build)
	}()
	if err != nil {
		logging.New(name).Error("function stopped", "err", err)
		os.Exit(1)
	}
}

// flushTimeout bounds the last export of spans on shutdown: a collector that
// is down must not hold a stopping pod past its grace period.
const flushTimeout = 3 * time.Second

// Run builds the function from a new App, starts it, serves it on ln until
// ctx ends, then stops it, waits for its outbox sends and closes the App.
func Run[F http.Handler](ctx context.Context, ln net.Listener, name string, needs Needs, s Settings, build func(*App) (F, error)) error {
	a, err := New(ctx, name, needs, s)
	if err != nil {
		ln.Close()
		return fmt.Errorf("startup: %w", err)
	}
	defer a.Close()
	f, err := build(a)
	if err != nil {
		ln.Close()
		return fmt.Errorf("startup: %w", err)
	}
	if st, ok := any(f).(Starter); ok {
		if err := st.Start(ctx); err != nil {
			ln.Close()
			return fmt.Errorf("start: %w", err)
		}
	}
	ready := a.Ready
	if r, ok := any(f).(Readier); ok {
		ready = func(ctx context.Context) error {
			return errors.Join(a.Ready(ctx), r.Ready(ctx))
		}
	}
	var stopErr error
	err = server.Serve(ctx, ln, a.Log, f, server.Options{
		Ready: ready,
		OnShutdown: func(ctx context.Context) {
			if st, ok := any(f).(Stopper); ok {
				stopErr = st.Stop(ctx)
			}
			a.Outbox.Wait()
		},
	})
	return errors.Join(err, stopErr)
}

// PublicAPI serves mux as a browser-facing API: CSRF guard and a
// problem+json 404 for routes mux does not have.
func (a *App) PublicAPI(mux *http.ServeMux) http.Handler {
	answerUnknownRoutes(mux)
	return routed(mux, a.csrf.Protect(mux))
}

// SignedInAPI is PublicAPI where every route needs a session.
func (a *App) SignedInAPI(mux *http.ServeMux) http.Handler {
	answerUnknownRoutes(mux)
	return routed(mux, a.csrf.Protect(a.Sessions.Require(a.Log, mux)))
}

// routed names the request's span after the route of mux it is for, before
// the guards in h can answer it (a 403 is still "POST /api/posts"). The
// lookup is skipped when the span is not recorded.
func routed(mux *http.ServeMux, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if trace.SpanFromContext(r.Context()).IsRecording() {
			_, pattern := mux.Handler(r)
			telemetry.Route(r.Context(), pattern)
		}
		h.ServeHTTP(w, r)
	})
}

func answerUnknownRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.NotFound(w, "No such endpoint.")
	})
}
