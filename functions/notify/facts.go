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

// facts is the query that checks every fact of a claim that Postgres can
// confirm: the actor, the recipient and the friend request (with its
// parties and, for an acceptance, its state) or the post (with its author,
// and the recipient a friend of that author). It selects the actor's current
// name, when the thing really happened and whether it was withdrawn since (a
// friend request cancelled), at most one row, with the claim's request or
// post as $1, its actor as $2 and its recipient as $3.
func facts(c claim) (q string, args []any, err error) {
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
		return "", nil, consume.Permanent(fmt.Errorf("no notification of kind %q", c.Kind))
	}
	return q, args, nil
}

// verify runs the facts query on its own. An event is a claim, not a
// command: a claim that does not hold is refused as permanent, so it is
// dead-lettered with the reason instead of stored, and a replay of it is
// refused the same way.
func verify(ctx context.Context, tx *outbox.Tx, c claim) error {
	q, args, err := facts(c)
	if err != nil {
		return err
	}
	var name string
	var at time.Time
	var withdrawn bool
	err = tx.QueryRow(ctx, q, args...).Scan(&name, &at, &withdrawn)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return consume.Permanent(fmt.Errorf("refused: %s", c.unconfirmed()))
	case err != nil:
		return fmt.Errorf("check %s: %w", c.Kind, err)
	}
	return nil
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
