// Package notification is the one place that knows what a notification
// looks like to a client: the list-item JSON the inbox serves and notify
// publishes on the live channel, its readable text, and how a row of the
// notifications table becomes an Item.
package notification

import (
	"time"

	"github.com/jackc/pgx/v5"

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
// notifications.
func Channel(recipientID string) string { return "notifications:" + recipientID }

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
