package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/consume"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// claim is what an event says happened: the notification it asks for and,
// for a friend event, the request it is about.
type claim struct {
	events.NotificationCreated
	RequestID string
}

// checked is what the database says about a claim: the actor's current name,
// when the thing really happened, and whether it was withdrawn since (a
// friend request cancelled before notify heard of it).
type checked struct {
	ActorName string
	At        time.Time
	Withdrawn bool
}

// verify checks every fact of a claim that Postgres can confirm: the actor,
// the recipient and the friend request (with its parties and, for an
// acceptance, its state) or the post (with its author, and the recipient a
// friend of that author). An event is a claim, not a command: a claim that
// does not hold is refused as permanent, so it is dead-lettered with the
// reason instead of stored, and a replay of it is refused the same way. The
// time stored is the database's, never after now, so no event can date a
// notification in the future.
func verify(ctx context.Context, tx *outbox.Tx, c claim) (checked, error) {
	var (
		q    string
		args []any
	)
	switch c.Kind {
	case events.KindFriendRequested:
		q = `SELECT a.name, r.created_at, r.status = 'cancelled' FROM friend_requests r JOIN users a ON a.id = r.from_user
			WHERE r.id = $1 AND r.from_user = $2 AND r.to_user = $3`
		args = []any{c.RequestID, c.ActorID, c.RecipientID}
	case events.KindFriendAccepted:
		q = `SELECT a.name, r.updated_at, false FROM friend_requests r JOIN users a ON a.id = r.to_user
			WHERE r.id = $1 AND r.to_user = $2 AND r.from_user = $3 AND r.status = 'accepted'`
		args = []any{c.RequestID, c.ActorID, c.RecipientID}
	case events.KindPostCreated:
		// Only fanout announces posts, and only to the author's friends.
		q = `SELECT a.name, p.created_at, false FROM posts p JOIN users a ON a.id = p.author_id
			JOIN friendships f ON f.user_id = p.author_id AND f.friend_id = $3
			WHERE p.id = $1 AND p.author_id = $2`
		args = []any{c.PostID, c.ActorID, c.RecipientID}
	default:
		return checked{}, consume.Permanent(fmt.Errorf("no notification of kind %q", c.Kind))
	}
	var ch checked
	err := tx.QueryRow(ctx, q, args...).Scan(&ch.ActorName, &ch.At, &ch.Withdrawn)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return checked{}, consume.Permanent(fmt.Errorf("refused: %s", c.unconfirmed()))
	case err != nil:
		return checked{}, fmt.Errorf("check %s: %w", c.Kind, err)
	}
	if now := time.Now(); ch.At.After(now) {
		ch.At = now
	}
	return ch, nil
}

// unconfirmed says which claim the database did not confirm.
func (c claim) unconfirmed() string {
	switch c.Kind {
	case events.KindFriendRequested:
		return fmt.Sprintf("no friend request %s from %s to %s", c.RequestID, c.ActorID, c.RecipientID)
	case events.KindFriendAccepted:
		return fmt.Sprintf("no accepted friend request %s from %s to %s", c.RequestID, c.RecipientID, c.ActorID)
	default:
		return fmt.Sprintf("no post %s by %s, or %s is not their friend", c.PostID, c.ActorID, c.RecipientID)
	}
}
