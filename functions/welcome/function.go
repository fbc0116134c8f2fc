package main

import (
	"net/http"
	"time"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/consume"
)

// Name is the function's Knative Service and its consumer name (the key of
// its dedup ledger).
const Name = "welcome"

// Needs are the backing services the runtime connects for it.
var Needs = app.Needs{}

// Function is the KafkaSource subscriber for user.signedup: one welcome
// email per new user.
type Function struct {
	http.Handler
	mailer *mailer
}

// New builds the function on the runtime's connections and the SMTP server
// the environment names (SMTP_ADDR, MAIL_FROM).
func New(a *app.App) (*Function, error) {
	f := &Function{mailer: &mailer{
		addr:    config.String("SMTP_ADDR", config.DefaultSMTPAddr),
		from:    config.String("MAIL_FROM", "hello@tidings.dev"),
		timeout: 10 * time.Second,
	}}
	f.Handler = consume.Handler(Name, a.Outbox, a.Log, []string{events.TypeUserSignedUp}, f.welcome)
	return f, nil
}
