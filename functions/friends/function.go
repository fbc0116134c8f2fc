package main

import (
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// Name is the function's Knative Service.
const Name = "friends"

// Needs are the backing services the runtime connects for it.
var Needs = app.Needs{Sessions: true, Sink: true}

// source names this function in the events it emits.
const source = "/tidings/friends"

// Function serves user search, friend requests and friendships, for signed-in users.
type Function struct {
	http.Handler
	pool   *pgxpool.Pool
	outbox *outbox.Outbox
	log    *slog.Logger
}

// New builds the function on the runtime's connections.
func New(a *app.App) (*Function, error) {
	f := &Function{pool: a.Pool, outbox: a.Outbox, log: a.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/users", f.search)
	mux.HandleFunc("POST /api/friends/requests", f.sendRequest)
	mux.HandleFunc("GET /api/friends/requests", f.listRequests)
	mux.HandleFunc("POST /api/friends/requests/{id}/accept", f.accept)
	mux.HandleFunc("POST /api/friends/requests/{id}/decline", f.decline)
	mux.HandleFunc("DELETE /api/friends/requests/{id}", f.cancel)
	mux.HandleFunc("GET /api/friends", f.listFriends)
	mux.HandleFunc("DELETE /api/friends/{userId}", f.unfriend)
	f.Handler = a.SignedInAPI(mux)
	return f, nil
}
