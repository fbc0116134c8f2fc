// Command post is the Knative Service behind /api/posts and
// /api/users/{id}/posts: it creates posts, emitting
// dev.tidings.post.created.v1 through the outbox to its KafkaSink (K_SINK,
// from the SinkBinding), and reads the feed.
package main

import (
	"net/http"

	"github.com/tidings-dev/tidings/functions/internal/app"
)

func main() {
	app.Main("post", app.Needs{Redis: true, Sink: true}, func(a *app.App) (http.Handler, error) {
		return newHandler(a), nil
	})
}

func newHandler(a *app.App) http.Handler {
	h := &handler{pool: a.Pool, outbox: a.Outbox, log: a.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/posts", h.create)
	mux.HandleFunc("GET /api/posts", h.feed)
	mux.HandleFunc("GET /api/users/{id}/posts", h.byAuthor)
	return a.SignedInAPI(mux)
}
