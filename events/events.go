// Package events is the contract between Tidings functions: CloudEvent types,
// the Kafka topic each type lives on, its partition key, its payload struct and
// its JSON Schema. Producers and consumers share nothing else.
package events

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
)

// CloudEvent types. Versioned and namespaced: a breaking payload change is a new type.
const (
	TypeUserSignedUp        = "dev.tidings.user.signedup.v1"
	TypeFriendRequested     = "dev.tidings.friend.requested.v1"
	TypeFriendAccepted      = "dev.tidings.friend.accepted.v1"
	TypeFriendCancelled     = "dev.tidings.friend.cancelled.v1"
	TypePostCreated         = "dev.tidings.post.created.v1"
	TypeNotificationCreated = "dev.tidings.notification.created.v1"
)

// Kafka topics. Every topic is keyed by the user whose order matters.
const (
	TopicUsers         = "tidings.users"
	TopicFriends       = "tidings.friends"
	TopicPosts         = "tidings.posts"
	TopicNotifications = "tidings.notifications"
)

// PartitionKeyExtension is the CloudEvents extension that the KafkaSink and the
// kafka_sarama binding both turn into the Kafka record key.
const PartitionKeyExtension = "partitionkey"

// SchemaBase is where the contract's JSON Schemas are published: each
// schema's $id is SchemaBase + its file name under schemas/.
const SchemaBase = "https://tidings.dev/schemas/"

// Spec describes one event type of the contract.
type Spec struct {
	Type   string
	Topic  string
	Schema string // file name under schemas/
	// KeyDoc says which user the partition key is, for the AsyncAPI reader.
	KeyDoc string
	// Producers are the Tidings functions (Knative Service names) that may
	// send the type to its KafkaSink. Outside producers may send no type
	// today.
	Producers []string
}

// Relay is the function that resends what producers left in their outboxes.
// Each outbox row was written by one of a type's Producers in its own
// transaction, so the relay may send every type, and only that.
const Relay = "relay"

// SchemaURI is the $id of the type's JSON Schema, which every event of the
// type carries as its dataschema attribute.
func (s Spec) SchemaURI() string { return SchemaBase + s.Schema }

var specs = map[string]Spec{
	TypeUserSignedUp:        {TypeUserSignedUp, TopicUsers, "user.signedup.v1.json", "the new user's id", []string{"signup"}},
	TypeFriendRequested:     {TypeFriendRequested, TopicFriends, "friend.requested.v1.json", "the recipient's id", []string{"friends"}},
	TypeFriendAccepted:      {TypeFriendAccepted, TopicFriends, "friend.accepted.v1.json", "the recipient's id (the original requester)", []string{"friends"}},
	TypeFriendCancelled:     {TypeFriendCancelled, TopicFriends, "friend.cancelled.v1.json", "the recipient's id (whom the request was to)", []string{"friends"}},
	TypePostCreated:         {TypePostCreated, TopicPosts, "post.created.v1.json", "the author's id", []string{"post"}},
	TypeNotificationCreated: {TypeNotificationCreated, TopicNotifications, "notification.created.v1.json", "the recipient's id", []string{"fanout"}},
}

// Lookup returns the spec of a known event type.
func Lookup(eventType string) (Spec, bool) {
	s, ok := specs[eventType]
	return s, ok
}

// Types lists every event type of the contract, sorted.
func Types() []string {
	out := make([]string, 0, len(specs))
	for t := range specs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// TopicProducers lists, sorted, the functions that may send to topic's
// KafkaSink: the producers of every type on it, and the relay (none for a
// topic outside the contract). This is what
// the sink's EventPolicy (knative/eventpolicies.yaml) must allow, and all it
// may allow.
func TopicProducers(topic string) []string {
	seen := map[string]bool{}
	for _, s := range specs {
		if s.Topic == topic {
			seen[Relay] = true
			for _, p := range s.Producers {
				seen[p] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// TopicOf returns the topic an event type lives on.
func TopicOf(eventType string) (string, bool) {
	s, ok := specs[eventType]
	return s.Topic, ok
}

// New builds a CloudEvent of a contract type: a fresh id, the time now, the
// schema's URI as dataschema, the partition key as an extension and the
// payload as JSON. It validates the result, so a producer can never emit
// what a consumer would reject.
func New(source, eventType, subject, partitionKey string, payload any) (event.Event, error) {
	e := cloudevents.NewEvent()
	if spec, ok := specs[eventType]; ok {
		e.SetDataSchema(spec.SchemaURI())
	}
	e.SetID(uuid.NewString())
	e.SetSource(source)
	e.SetType(eventType)
	e.SetSubject(subject)
	e.SetTime(time.Now().UTC())
	e.SetExtension(PartitionKeyExtension, partitionKey)
	if err := e.SetData(cloudevents.ApplicationJSON, payload); err != nil {
		return e, fmt.Errorf("encode %s payload: %w", eventType, err)
	}
	if err := Validate(e); err != nil {
		return e, err
	}
	return e, nil
}

// Decode validates e against the contract and unmarshals its payload into T.
func Decode[T any](e event.Event) (T, error) {
	var out T
	if err := Validate(e); err != nil {
		return out, err
	}
	if err := json.Unmarshal(e.Data(), &out); err != nil {
		return out, &InvalidError{Type: e.Type(), Reason: "payload: " + err.Error()}
	}
	return out, nil
}
