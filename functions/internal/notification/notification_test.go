package notification

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/events"
)

func TestTextForEachKind(t *testing.T) {
	cases := map[string]string{
		events.KindPostCreated:     "Ann posted",
		events.KindFriendRequested: "Ann sent you a friend request",
		events.KindFriendAccepted:  "Ann accepted your friend request",
		"something.new":            "New activity from Ann",
	}
	for kind, want := range cases {
		if got := Text(kind, "Ann"); got != want {
			t.Errorf("Text(%q) = %q, want %q", kind, got, want)
		}
	}
}

func TestItemJSONIsTheListItemShape(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 123000000, time.UTC)
	withPost := Item{ID: "n1", Type: events.KindPostCreated, Actor: Actor{ID: "u1", Name: "Ann"}, PostID: "p1", Text: "Ann posted", CreatedAt: at}
	raw, err := json.Marshal(withPost)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"n1","type":"post.created","actor":{"id":"u1","name":"Ann"},"postId":"p1","text":"Ann posted","read":false,"createdAt":"2025-03-01T12:00:00.123Z"}`
	if string(raw) != want {
		t.Fatalf("got  %s\nwant %s", raw, want)
	}
	noPost := withPost
	noPost.PostID, noPost.Type, noPost.Read = "", events.KindFriendRequested, true
	raw, _ = json.Marshal(noPost)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["postId"]; ok {
		t.Fatalf("postId present without a post: %s", raw)
	}
	if m["read"] != true {
		t.Fatalf("read not true: %s", raw)
	}
}

func TestChannelAndColumns(t *testing.T) {
	if got := Channel("abc"); got != "notifications:abc" {
		t.Fatalf("Channel = %q", got)
	}
	if got := Columns("n"); got[:7] != "n.id::t" {
		t.Fatalf("Columns(n) = %q", got)
	}
}
