package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/consume"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// welcomedSource is the ledger source under which welcome records each user
// it has welcomed, so a second user.signedup for the same user (a forged
// one, or one re-emitted by another path) mails nobody.
const welcomedSource = "tidings:welcomed-user"

// welcome sends the email inside the consumer's transaction: if SMTP fails
// the dedup rows roll back and the event is retried; once the mail server
// took the message, the rows commit and a redelivery sends nothing.
//
// The event is a claim: the mail goes only to a user who exists, at the
// address and under the name Postgres holds now. An unknown user is refused
// as permanent (400, so the event is dead-lettered with the reason): signup
// commits the user before its outbox sends the event, so an unknown user is
// never a race, only a forgery or a deleted account, and either is worth an
// operator's look.
func (f *Function) welcome(ctx context.Context, tx *outbox.Tx, e event.Event) error {
	claimed, err := events.Decode[events.UserSignedUp](e)
	if err != nil {
		return err
	}
	var email, name string
	err = tx.QueryRow(ctx, `SELECT email, name FROM users WHERE id = $1`, claimed.UserID).Scan(&email, &name)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return consume.Permanent(fmt.Errorf("refused: no user %s", claimed.UserID))
	case err != nil:
		return fmt.Errorf("user %s: %w", claimed.UserID, err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO processed_events (consumer, event_source, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		Name, welcomedSource, claimed.UserID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return nil // welcomed before
	}
	msg := message{
		To:      email,
		Subject: "Welcome to Tidings, " + name,
		// The event id makes the Message-ID, so even a resend after a
		// lost commit is recognisable as the same mail.
		MessageID: fmt.Sprintf("<%s@tidings.dev>", e.ID()),
		Body: fmt.Sprintf("Hi %s,\n\nWelcome to Tidings! Find your friends, share what you're up to, "+
			"and we'll let you know when they do the same.\n\nSee you inside,\nThe Tidings team\n", name),
	}
	return f.mailer.send(ctx, msg)
}
