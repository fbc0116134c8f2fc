// Command friends is the Knative Service behind GET /api/users (search) and
// /api/friends...: friend requests and friendships. It emits
// dev.tidings.friend.requested.v1 and dev.tidings.friend.accepted.v1 through
// the outbox to its KafkaSink (K_SINK, from the SinkBinding).
package main

import (
	"net/http"

	"github.com/tidings-dev/tidings/functions/internal/app"
)

func main() {
	app.Main("friends", app.Needs{Redis: true, Sink: true}, func(a *app.App) (http.Handler, error) {
		return newHandler(a), nil
	})
}

func newHandler(a *app.App) http.Handler {
	h := &handler{pool: a.Pool, outbox: a.Outbox, log: a.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/users", h.search)
	mux.HandleFunc("POST /api/friends/requests", h.sendRequest)
	mux.HandleFunc("GET /api/friends/requests", h.listRequests)
	mux.HandleFunc("POST /api/friends/requests/{id}/accept", h.accept)
	mux.HandleFunc("POST /api/friends/requests/{id}/decline", h.decline)
	mux.HandleFunc("DELETE /api/friends/requests/{id}", h.cancel)
	mux.HandleFunc("GET /api/friends", h.listFriends)
	mux.HandleFunc("DELETE /api/friends/{userId}", h.unfriend)
	return a.SignedInAPI(mux)
}
