// Command signup is the Knative Service behind POST /api/signup. It creates
// the account, emits dev.tidings.user.signedup.v1 through the outbox to its
// KafkaSink (K_SINK), and logs the new user in.
package main

import (
	"net/http"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/csrf"
)

func main() {
	app.Main("signup", app.Needs{Redis: true, Sink: true}, func(a *app.App) (http.Handler, error) {
		return newHandler(a), nil
	})
}

func newHandler(a *app.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /api/signup", &handler{outbox: a.Outbox, sessions: a.Sessions, log: a.Log})
	return csrf.Protect(mux)
}
