// Command notify is the Knative Service a KafkaSource feeds with friend
// events (tidings.friends) and fan-out events (tidings.notifications). It
// stores each notification once and publishes it to the recipient's live
// channel in Redis, which the inbox WebSockets subscribe to.
package main

import (
	"net/http"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/notify/notify"
)

func main() {
	app.Main(notify.Name, app.Needs{Redis: true}, func(a *app.App) (http.Handler, error) {
		return notify.Handler(a.Outbox, a.Log, a.Redis), nil
	})
}
