package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/consume"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// Name is the function's Knative Service and its consumer name (the key of
// its dedup ledger).
const Name = "fanout"

// Needs are the backing services the runtime connects for it.
var Needs = app.Needs{Sink: true}

// source names this function in the events it emits.
const source = "/tidings/fanout"

// Function is the KafkaSource subscriber for post.created: one
// notification.created per friend of the author.
type Function struct {
	http.Handler
}

// New builds the function on the runtime's connections.
func New(a *app.App) (*Function, error) {
	return &Function{consume.Handler(Name, a.Outbox, a.Log, []string{events.TypePostCreated}, fanOut)}, nil
}

// fanOut emits one notification per friend of the author, in the consumer's
// transaction: the dedup row and every outbox row commit together, so a
// redelivered post notifies no one twice and a failure notifies no one.
// Friends are read with one query and written to the outbox in batches; the
// outbox sends them in parallel after commit.
func fanOut(ctx context.Context, tx *outbox.Tx, e event.Event) error {
	p, err := events.Decode[events.PostCreated](e)
	if err != nil {
		return err
	}
	// The event is a claim: announce only a post that exists under the
	// author it names, with the author's current name and the post's time.
	var authorName string
	var createdAt time.Time
	err = tx.QueryRow(ctx, `SELECT u.name, p.created_at FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1 AND p.author_id = $2`,
		p.PostID, p.AuthorID).Scan(&authorName, &createdAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return consume.Permanent(fmt.Errorf("refused: no post %s by %s", p.PostID, p.AuthorID))
	case err != nil:
		return fmt.Errorf("post %s: %w", p.PostID, err)
	}
	rows, err := tx.Query(ctx, `SELECT friend_id::text FROM friendships WHERE user_id = $1`, p.AuthorID)
	if err != nil {
		return fmt.Errorf("friends of %s: %w", p.AuthorID, err)
	}
	friends, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("friends of %s: %w", p.AuthorID, err)
	}
	out := make([]event.Event, 0, len(friends))
	for _, friend := range friends {
		n, err := events.New(source, events.TypeNotificationCreated, p.PostID, friend, events.NotificationCreated{
			RecipientID: friend,
			Kind:        events.KindPostCreated,
			ActorID:     p.AuthorID,
			ActorName:   authorName,
			PostID:      p.PostID,
			CauseSource: e.Source(),
			CauseID:     e.ID(),
			CreatedAt:   createdAt.UTC(),
		})
		if err != nil {
			return fmt.Errorf("notification for %s: %w", friend, err)
		}
		out = append(out, n)
	}
	return tx.EmitAll(ctx, out)
}
