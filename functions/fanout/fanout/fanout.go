// Package fanout turns one post.created event into one notification.created
// event per friend of the author; cmd functions/fanout serves it.
package fanout

import (
	"context"
	"fmt"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/consume"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// Name is the consumer name (its dedup ledger key) and the Knative Service.
const Name = "fanout"

// Source is the CloudEvents source of the events fanout emits.
const Source = "/tidings/fanout"

// Handler is the KafkaSource subscriber endpoint.
func Handler(a *app.App) http.Handler {
	return consume.Handler(Name, a.Outbox, a.Log, []string{events.TypePostCreated}, fanOut)
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
	if _, err := uuid.Parse(p.AuthorID); err != nil {
		return consume.Permanent(fmt.Errorf("authorId %q is not a user id", p.AuthorID))
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
		n, err := events.New(Source, events.TypeNotificationCreated, p.PostID, friend, events.NotificationCreated{
			RecipientID: friend,
			Kind:        events.KindPostCreated,
			ActorID:     p.AuthorID,
			ActorName:   p.AuthorName,
			PostID:      p.PostID,
			CauseSource: e.Source(),
			CauseID:     e.ID(),
			CreatedAt:   p.CreatedAt,
		})
		if err != nil {
			return fmt.Errorf("notification for %s: %w", friend, err)
		}
		out = append(out, n)
	}
	return tx.EmitAll(ctx, out)
}
