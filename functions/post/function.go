package main

import (
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// Name is the function's Knative Service.
const Name = "post"

// Needs are the backing services the runtime connects for it.
var Needs = app.Needs{Sessions: true, Sink: true}

// source names this function in the events it emits.
const source = "/tidings/post"

// Function creates posts and reads the feed, one user's posts and one post, for signed-in users.
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
	mux.HandleFunc("POST /api/posts", f.create)
	mux.HandleFunc("GET /api/posts", f.feed)
	mux.HandleFunc("GET /api/posts/{id}", f.one)
	mux.HandleFunc("GET /api/users/{id}/posts", f.byAuthor)
	// The HTTPRoute sends /api/users/ to post (only the search, /api/users
	// itself, goes to friends), so the card a stranger's profile shows is here.
	mux.HandleFunc("GET /api/users/{id}", f.person)
	f.Handler = a.SignedInAPI(mux)
	return f, nil
}
