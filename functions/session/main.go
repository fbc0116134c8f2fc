// Command session is the Knative Service behind POST /api/login,
// POST /api/logout and GET /api/me.
package main

import (
	"net/http"

	"github.com/tidings-dev/tidings/functions/internal/app"
)

func main() {
	app.Main("session", app.Needs{Redis: true}, func(a *app.App) (http.Handler, error) {
		return newHandler(a), nil
	})
}
