// Package app wires a function's backing services from the environment, so
// each function's main is only its own routes. Knative gives a function
// PORT, K_SERVICE and (through a SinkBinding) K_SINK; the rest comes from
// the tidings-config ConfigMap locally defaulted to the local stack.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/csrf"
	"github.com/tidings-dev/tidings/functions/internal/logging"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/functions/internal/problem"
	"github.com/tidings-dev/tidings/functions/internal/server"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

// Needs says which backing services a function uses.
type Needs struct {
	Redis bool // sessions, live channels
	Sink  bool // emits events: K_SINK is required
}

// App is a running function's shared dependencies.
type App struct {
	Name     string
	Log      *slog.Logger
	Pool     *pgxpool.Pool
	Redis    *redis.Client // nil unless Needs.Redis
	Sessions *session.Store
	Outbox   *outbox.Outbox
}

// Settings locate the backing services.
type Settings struct {
	DatabaseURL, RedisURL string
	// Sink is where emitted events go: K_SINK, set by the SinkBinding.
	Sink string
}

// SettingsFromEnv reads DATABASE_URL, REDIS_URL and K_SINK, defaulting to the
// local stack.
func SettingsFromEnv() Settings {
	return Settings{
		DatabaseURL: config.String("DATABASE_URL", config.DefaultDatabaseURL),
		RedisURL:    config.String("REDIS_URL", config.DefaultRedisURL),
		Sink:        os.Getenv("K_SINK"),
	}
}

// New connects to Postgres (and Redis), applies migrations and prepares the
// outbox for the sink.
func New(ctx context.Context, name string, needs Needs, s Settings) (*App, error) {
	a := &App{Name: name, Log: logging.New(name)}
	pool, err := pg.Connect(ctx, s.DatabaseURL, 15*time.Second)
	if err != nil {
		return nil, err
	}
	a.Pool = pool
	if err := pg.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if needs.Redis {
		opts, err := redis.ParseURL(s.RedisURL)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		a.Redis = redis.NewClient(opts)
		a.Sessions = session.NewStore(a.Redis)
	}
	if needs.Sink && s.Sink == "" {
		a.Close()
		return nil, errors.New("K_SINK is not set: bind this function to its KafkaSink with a SinkBinding")
	}
	if a.Outbox, err = outbox.New(pool, s.Sink, a.Log); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Ready checks the backing services for the health probe.
func (a *App) Ready(ctx context.Context) error {
	if err := a.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if a.Redis != nil {
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

// Main runs a function: build its handler from the App, serve until SIGTERM,
// then drain. It exits the process with status 1 on a startup error.
func Main(name string, needs Needs, handler func(a *App) (http.Handler, error)) {
	ctx := context.Background()
	a, err := New(ctx, name, needs, SettingsFromEnv())
	if err != nil {
		logging.New(name).Error("startup failed", "err", err)
		os.Exit(1)
	}
	h, err := handler(a)
	if err != nil {
		a.Log.Error("startup failed", "err", err)
		os.Exit(1)
	}
	err = server.Run(ctx, a.Log, h, server.Options{
		Ready: a.Ready,
		OnShutdown: func(context.Context) {
			a.Outbox.Wait()
			a.Close()
		},
	})
	if err != nil {
		a.Log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// SignedInAPI serves mux as a browser-facing API that needs a session: CSRF
// guard, session check, and a problem+json 404 for routes mux does not have.
func (a *App) SignedInAPI(mux *http.ServeMux) http.Handler {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.NotFound(w, "No such endpoint.")
	})
	return csrf.Protect(a.Sessions.Require(a.Log, mux))
}
