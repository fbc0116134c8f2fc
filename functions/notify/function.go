package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

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
var accepts = []string{events.TypeFriendRequested, events.TypeFriendAccepted, events.TypeFriendCancelled, events.TypeNotificationCreated}

// Concurrent deliveries (one per partition of the ordered source) share
// transactions, so that one commit serves several notifications
// (consume.GroupCommit). A group's events run one after another on its
// connection, so groups stay small and many run at once: a post's burst of
// 50 notifications is spread over 8 of the pool's 10 connections rather
// than queued behind a few.
const (
	groupSize    = 8
	groupRunners = 8
)

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
	f.Handler = consume.Handler(Name, a.Outbox, a.Log, accepts, f.handle, consume.GroupCommit(groupSize, groupRunners))
	return f, nil
}

func (f *Function) handle(ctx context.Context, tx *outbox.Tx, e event.Event) error {
	if e.Type() == events.TypeFriendCancelled {
		return withdraw(ctx, tx, e, func(recipient string) {
			tx.AfterCommit(func(ctx context.Context) {
				f.publish(ctx, recipient, notification.Changed{Changed: notification.ChangedRemoved})
			})
		})
	}
	return store(ctx, tx, e, func(recipient string, it notification.Item) {
		tx.AfterCommit(func(ctx context.Context) { f.publish(ctx, recipient, it) })
	})
}

func (f *Function) publish(ctx context.Context, recipient string, msg any) {
	if err := notification.Publish(ctx, f.rdb, recipient, msg); err != nil {
		// The row is stored (or gone); the client refetches the list on reconnect.
		f.log.WarnContext(ctx, "live publish failed; the list is right, the open clients are not told", "recipient", recipient, "err", err)
	}
}

// store turns the event into a notification row, once its claims are
// verified against the database: the check and the insert are one
// statement (one round trip, where a check then an insert were two), which
// stores the row only when the facts query finds the claim true and not
// withdrawn, with the database's name and time, never after now (so no
// event can date a notification in the future). Redeliveries of the same
// event stop at consume's dedup; a different event with the same cause (a
// replay, a resend by another path) stops at the unique key. When nothing
// was stored, verify tells a claim that does not hold (refused, permanent)
// from one stored before or withdrawn since (a friend request cancelled
// before notify heard of it: nothing to tell).
func store(ctx context.Context, tx *outbox.Tx, e event.Event, stored func(recipient string, it notification.Item)) error {
	c, err := fromEvent(e)
	if err != nil {
		return err
	}
	q, args, err := facts(c)
	if err != nil {
		return err
	}
	var postID, requestID *string
	if c.PostID != "" {
		postID = &c.PostID
	}
	if c.Kind == events.KindFriendRequested {
		requestID = &c.RequestID
	}
	args = append(args, c.Kind, postID, c.CauseSource, c.CauseID, requestID)
	it, err := notification.Scan(tx.QueryRow(ctx, `
		WITH facts (actor_name, at, withdrawn) AS (`+q+` LIMIT 1)
		INSERT INTO notifications (recipient_id, kind, actor_id, actor_name, post_id, request_id, cause_source, cause_id, created_at)
		SELECT $3, $4, $2, facts.actor_name, $5, $8, $6, $7, least(facts.at, clock_timestamp()) FROM facts
		WHERE NOT facts.withdrawn
		ON CONFLICT (recipient_id, kind, cause_source, cause_id) DO NOTHING
		RETURNING `+notification.Columns(""), args...))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return verify(ctx, tx, c) // nil: stored before, or withdrawn
	case err != nil:
		return fmt.Errorf("store notification: %w", err)
	}
	stored(c.RecipientID, it)
	return nil
}

// withdraw takes back the notification of a cancelled friend request. The
// cancel is a claim like any other: the request must be cancelled, from and
// to the people named, or the event is refused as permanent. Deleting is
// idempotent, so a redelivery or a replay changes nothing, and a cancel
// heard before its request (a replay out of order) leaves nothing behind,
// because store skips a request that is cancelled by then.
func withdraw(ctx context.Context, tx *outbox.Tx, e event.Event, removed func(recipient string)) error {
	p, err := events.Decode[events.FriendCancelled](e)
	if err != nil {
		return err
	}
	var ok bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM friend_requests
		WHERE id = $1 AND from_user = $2 AND to_user = $3 AND status = 'cancelled')`, p.RequestID, p.FromUserID, p.ToUserID).Scan(&ok)
	if err != nil {
		return fmt.Errorf("check cancelled request: %w", err)
	}
	if !ok {
		return consume.Permanent(fmt.Errorf("refused: no cancelled friend request %s from %s to %s", p.RequestID, p.FromUserID, p.ToUserID))
	}
	// Rows from before migration 006 name no request: the actor's pending
	// request notification is the one (one pending request per pair).
	tag, err := tx.Exec(ctx, `DELETE FROM notifications
		WHERE recipient_id = $3 AND kind = $4 AND (request_id = $1 OR (request_id IS NULL AND actor_id = $2))`,
		p.RequestID, p.FromUserID, p.ToUserID, events.KindFriendRequested)
	if err != nil {
		return fmt.Errorf("remove notification: %w", err)
	}
	if tag.RowsAffected() > 0 {
		removed(p.ToUserID)
	}
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
