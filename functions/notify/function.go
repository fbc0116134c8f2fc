package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/consume"
	"github.com/tidings-dev/tidings/functions/internal/notification"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// Name is the function's Knative Service and its consumer name (the key of
// its dedup ledger).
const Name = "notify"

// Needs are the backing services the runtime connects for it.
// Redis carries the live push only: the notification is stored in Postgres,
// so notify starts and stays ready while Redis is down.
var Needs = app.Needs{Redis: true}

// accepts lists the event types notify consumes.
var accepts = []string{events.TypeFriendRequested, events.TypeFriendAccepted, events.TypeNotificationCreated}

// publishTimeout bounds the Redis publish after commit; a slow Redis must
// not hold the KafkaSource's partition.
const publishTimeout = 2 * time.Second

// Function is the KafkaSource subscriber for friend and fan-out events. The
// notification is stored inside the consumer's transaction; only after that
// transaction committed, and only if the row is new, is it published live.
// Publishing is best effort: the row is the truth, and a client that missed
// a live message refetches the list when it reconnects.
type Function struct {
	http.Handler
	log *slog.Logger
	rdb *redis.Client
}

// New builds the function on the runtime's connections.
func New(a *app.App) (*Function, error) {
	f := &Function{log: a.Log, rdb: a.Redis}
	f.Handler = consume.Handler(Name, a.Outbox, a.Log, accepts, f.handle)
	return f, nil
}

func (f *Function) handle(ctx context.Context, tx *outbox.Tx, e event.Event) error {
	return store(ctx, tx, e, func(recipient string, it notification.Item) {
		tx.AfterCommit(func(ctx context.Context) { f.publish(ctx, recipient, it) })
	})
}

func (f *Function) publish(ctx context.Context, recipient string, it notification.Item) {
	raw, err := notification.EncodeLive(ctx, it)
	if err != nil {
		f.log.ErrorContext(ctx, "encode live notification", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := f.rdb.Publish(ctx, notification.Channel(recipient), raw).Err(); err != nil {
		// The row is stored; the client refetches the list on reconnect.
		f.log.WarnContext(ctx, "live publish failed; notification stored only", "notification", it.ID, "recipient", recipient, "err", err)
	}
}

// store turns the event into a notification row, once its claims are
// verified against the database. Redeliveries of the same event stop at
// consume's dedup; a different event with the same cause (a replay, a resend
// by another path) stops at the unique key.
func store(ctx context.Context, tx *outbox.Tx, e event.Event, stored func(recipient string, it notification.Item)) error {
	c, err := fromEvent(e)
	if err != nil {
		return err
	}
	facts, err := verify(ctx, tx, c)
	if err != nil {
		return err
	}
	var postID *string
	if c.PostID != "" {
		postID = &c.PostID
	}
	it, err := notification.Scan(tx.QueryRow(ctx, `
		INSERT INTO notifications (recipient_id, kind, actor_id, actor_name, post_id, cause_source, cause_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (recipient_id, kind, cause_source, cause_id) DO NOTHING
		RETURNING `+notification.Columns(""),
		c.RecipientID, c.Kind, c.ActorID, facts.ActorName, postID, c.CauseSource, c.CauseID, facts.At))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil // stored before: nothing new to tell anyone
	case err != nil:
		return fmt.Errorf("store notification: %w", err)
	}
	stored(c.RecipientID, it)
	return nil
}

// fromEvent maps each consumed event to the notification it claims. A friend
// event is its own cause; a fan-out event names the post event that caused
// it and only ever announces a post.
func fromEvent(e event.Event) (claim, error) {
	switch e.Type() {
	case events.TypeFriendRequested:
		p, err := events.Decode[events.FriendRequested](e)
		if err != nil {
			return claim{}, err
		}
		return claim{events.NotificationCreated{
			RecipientID: p.ToUserID, Kind: events.KindFriendRequested, ActorID: p.FromUserID,
			CauseSource: e.Source(), CauseID: e.ID(),
		}, p.RequestID}, nil
	case events.TypeFriendAccepted:
		p, err := events.Decode[events.FriendAccepted](e)
		if err != nil {
			return claim{}, err
		}
		return claim{events.NotificationCreated{
			RecipientID: p.RequesterID, Kind: events.KindFriendAccepted, ActorID: p.AccepterID,
			CauseSource: e.Source(), CauseID: e.ID(),
		}, p.RequestID}, nil
	case events.TypeNotificationCreated:
		n, err := events.Decode[events.NotificationCreated](e)
		if err != nil {
			return claim{}, err
		}
		if n.Kind != events.KindPostCreated || n.PostID == "" {
			return claim{}, consume.Permanent(fmt.Errorf("%s announces posts only (kind post.created with a postId), not %q", e.Type(), n.Kind))
		}
		return claim{NotificationCreated: n}, nil
	}
	return claim{}, consume.Permanent(fmt.Errorf("notify does not consume %s", e.Type()))
}
