package main

import (
	"context"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// welcome sends the email inside the consumer's transaction: if SMTP fails
// the dedup row rolls back and the event is retried; once the mail server
// took the message, the row commits and a redelivery sends nothing.
func (f *Function) welcome(ctx context.Context, _ *outbox.Tx, e event.Event) error {
	u, err := events.Decode[events.UserSignedUp](e)
	if err != nil {
		return err
	}
	msg := message{
		To:      u.Email,
		Subject: "Welcome to Tidings, " + u.Name,
		// The event id makes the Message-ID, so even a resend after a
		// lost commit is recognisable as the same mail.
		MessageID: fmt.Sprintf("<%s@tidings.dev>", e.ID()),
		Body: fmt.Sprintf("Hi %s,\n\nWelcome to Tidings! Find your friends, share what you're up to, "+
			"and we'll let you know when they do the same.\n\nSee you inside,\nThe Tidings team\n", u.Name),
	}
	return f.mailer.send(ctx, msg)
}
