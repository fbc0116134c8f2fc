package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/functions/internal/app"
)

// Name is the function's Knative Service.
const Name = "inbox"

// Needs are the backing services the runtime connects for it.
var Needs = app.Needs{Sessions: true, Redis: true}

// Function serves a signed-in user's notifications: the list, marking them
// read, and the live WebSocket stream fed by notify through Redis pub/sub.
type Function struct {
	http.Handler
	pool   *pgxpool.Pool
	rdb    *redis.Client
	log    *slog.Logger
	hub    *Hub
	stream *Stream
}

// New builds the function on the runtime's connections.
func New(a *app.App) (*Function, error) {
	f := &Function{pool: a.Pool, rdb: a.Redis, log: a.Log, hub: NewHub(a.Redis, a.Log)}
	f.stream = NewStream(f.hub, a.Sessions, a.Log, a.Site)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/notifications", f.list)
	mux.HandleFunc("POST /api/notifications/read", f.markRead)
	mux.Handle("GET /api/notifications/stream", f.stream)
	f.Handler = a.SignedInAPI(mux)
	return f, nil
}

// Stop tells every WebSocket client to go away (they reconnect to another
// instance and refetch the list). The HTTP server does not track hijacked
// connections, so its own shutdown does not wait for them.
func (f *Function) Stop(context.Context) error {
	f.hub.Close()
	return nil
}
