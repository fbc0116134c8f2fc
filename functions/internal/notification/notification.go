// Package notification is the one place that knows what a notification
// looks like to a client: the list-item JSON the inbox serves and notify
// publishes on the live channel, its readable text, and how a row of the
// notifications table becomes an Item.
package notification

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/events"
)

// Actor is who caused a notification.
type Actor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Item is one notification exactly as the API lists it and as the live
// channel carries it.
type Item struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Actor     Actor     `json:"actor"`
	PostID    string    `json:"postId,omitempty"`
	Text      string    `json:"text"`
	Read      bool      `json:"read"`
	CreatedAt time.Time `json:"createdAt"`
}

// Text renders a notification for people to read.
func Text(kind, actorName string) string {
	switch kind {
	case events.KindPostCreated:
		return actorName + " posted"
	case events.KindFriendRequested:
		return actorName + " sent you a friend request"
	case events.KindFriendAccepted:
		return actorName + " accepted your friend request"
	default:
		return "New activity from " + actorName
	}
}

// Channel is the Redis pub/sub channel carrying a recipient's new
// notifications, and the Changed messages about them.
func Channel(recipientID string) string { return "notifications:" + recipientID }

// Changed is the other live message: the recipient's list changed in a way
// no new item shows, so every open client reads its count and first page
// again. It goes to every device, which a browser-only channel could not.
type Changed struct {
	Changed string `json:"changed"`
}

// Why a list changed.
const (
	ChangedRead    = "read"    // marked read, in some tab or on some device
	ChangedRemoved = "removed" // taken back: the friend request was cancelled
)

// publishTimeout bounds a live publish; a slow Redis must not hold up the
// request or the KafkaSource's partition.
const publishTimeout = 2 * time.Second

// Publish sends msg (an Item or a Changed) to recipient's live channel. It
// is best effort by design: the rows are the truth, and a client that
// missed a message refetches when it reconnects.
func Publish(ctx context.Context, rdb *redis.Client, recipientID string, msg any) error {
	raw, err := EncodeLive(ctx, msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	return rdb.Publish(ctx, Channel(recipientID), raw).Err()
}

// Columns is the select list Scan reads, in order; alias is the table's
// alias in the query ("" for none).
func Columns(alias string) string {
	p := ""
	if alias != "" {
		p = alias + "."
	}
	return p + "id::text, " + p + "kind, " + p + "actor_id::text, " + p + "actor_name, coalesce(" + p + "post_id::text, ''), " +
		p + "read_at IS NOT NULL, " + p + "created_at"
}

// Scan reads one row selected with Columns into an Item, text included.
func Scan(row pgx.Row) (Item, error) {
	var it Item
	err := row.Scan(&it.ID, &it.Type, &it.Actor.ID, &it.Actor.Name, &it.PostID, &it.Read, &it.CreatedAt)
	if err != nil {
		return Item{}, err
	}
	it.Text = Text(it.Type, it.Actor.Name)
	it.CreatedAt = it.CreatedAt.UTC()
	return it, nil
}

// RowTo adapts Scan for pgx.CollectRows.
func RowTo(row pgx.CollectableRow) (Item, error) { return Scan(row) }
