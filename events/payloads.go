package events

import "time"

// UserSignedUp is the payload of TypeUserSignedUp. It carries no secrets:
// never the password or its hash.
type UserSignedUp struct {
	UserID     string    `json:"userId"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	SignedUpAt time.Time `json:"signedUpAt"`
}

// FriendRequested is the payload of TypeFriendRequested, keyed by ToUserID.
type FriendRequested struct {
	RequestID   string    `json:"requestId"`
	FromUserID  string    `json:"fromUserId"`
	FromName    string    `json:"fromName"`
	ToUserID    string    `json:"toUserId"`
	RequestedAt time.Time `json:"requestedAt"`
}

// FriendAccepted is the payload of TypeFriendAccepted, keyed by
// RequesterID: the person told about it.
type FriendAccepted struct {
	RequestID    string    `json:"requestId"`
	RequesterID  string    `json:"requesterId"`
	AccepterID   string    `json:"accepterId"`
	AccepterName string    `json:"accepterName"`
	AcceptedAt   time.Time `json:"acceptedAt"`
}

// FriendCancelled is the payload of TypeFriendCancelled, keyed by ToUserID
// like the request it withdraws, so it follows that request on its
// partition.
type FriendCancelled struct {
	RequestID   string    `json:"requestId"`
	FromUserID  string    `json:"fromUserId"`
	ToUserID    string    `json:"toUserId"`
	CancelledAt time.Time `json:"cancelledAt"`
}

// PostCreated is the payload of TypePostCreated, keyed by AuthorID.
type PostCreated struct {
	PostID     string    `json:"postId"`
	AuthorID   string    `json:"authorId"`
	AuthorName string    `json:"authorName"`
	HasImage   bool      `json:"hasImage"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Notification kinds, as the inbox API names them.
const (
	KindFriendRequested = "friend.requested"
	KindFriendAccepted  = "friend.accepted"
	KindPostCreated     = "post.created"
)

// NotificationCreated is the payload of TypeNotificationCreated, keyed by
// RecipientID. CauseSource and CauseID name the event that caused it, so a
// notification is stored once however often its cause is redelivered.
type NotificationCreated struct {
	RecipientID string    `json:"recipientId"`
	Kind        string    `json:"kind"`
	ActorID     string    `json:"actorId"`
	ActorName   string    `json:"actorName"`
	PostID      string    `json:"postId,omitempty"`
	CauseSource string    `json:"causeSource"`
	CauseID     string    `json:"causeId"`
	CreatedAt   time.Time `json:"createdAt"`
}
