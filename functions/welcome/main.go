// Command welcome is the Knative Service a KafkaSource feeds with
// dev.tidings.user.signedup.v1 events. It sends each new user one welcome
// email over SMTP.
package main

import (
	"net/http"
	"time"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/consume"
)

func main() {
	app.Main("welcome", app.Needs{}, func(a *app.App) (http.Handler, error) {
		m := &mailer{
			addr:    config.String("SMTP_ADDR", config.DefaultSMTPAddr),
			from:    config.String("MAIL_FROM", "hello@tidings.dev"),
			timeout: 10 * time.Second,
		}
		return consume.Handler("welcome", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, welcome(m)), nil
	})
}
