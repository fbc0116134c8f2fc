// Command inbox is the Knative Service behind /api/notifications: the
// notification list, marking notifications read, and the live WebSocket
// stream fed by notify through Redis pub/sub.
package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/tidings-dev/tidings/functions/inbox/inbox"
	"github.com/tidings-dev/tidings/functions/internal/app"
)

func main() {
	app.Main("inbox", app.Needs{Redis: true}, func(a *app.App) (http.Handler, error) {
		hub := inbox.NewHub(a.Redis, a.Log)
		// The HTTP server does not track hijacked connections, so on
		// SIGTERM the hub itself tells every WebSocket client to go away
		// (they reconnect to another instance and refetch the list).
		ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		go func() {
			<-ctx.Done()
			hub.Close()
		}()
		return inbox.NewHandler(a.Pool, a.Sessions, a.Log, inbox.NewStream(hub, a.Log)), nil
	})
}
