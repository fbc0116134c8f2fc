package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
)

// postID is the post each test's author wrote.
const postID = "a2b5b3c4-1d2e-4f00-9a00-000000000001"

// author makes a user with n friends and a post (postID), and returns the
// author's id and the friends' ids.
func author(t *testing.T, pool *pgxpool.Pool, n int) (string, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	var id string
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, 'Ann', 'x') RETURNING id::text`,
		time.Now().Format("150405.000000")+"@ann.example").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO posts (id, author_id, text) VALUES ($1, $2, 'hello')`, postID, id); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `
		WITH f AS (INSERT INTO users (email, name, password_hash)
			SELECT 'friend' || g || '-' || $1 || '@example.com', 'Friend ' || g, 'x' FROM generate_series(1, $2) g RETURNING id),
		a AS (INSERT INTO friendships (user_id, friend_id) SELECT $1::uuid, id FROM f),
		b AS (INSERT INTO friendships (user_id, friend_id) SELECT id, $1::uuid FROM f)
		SELECT id::text FROM f`, id, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	friends := map[string]bool{}
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			t.Fatal(err)
		}
		friends[f] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return id, friends
}

func postCreated(t *testing.T, authorID string) cloudevents.Event {
	t.Helper()
	e, err := events.New("/tidings/post", events.TypePostCreated, postID, authorID, events.PostCreated{
		PostID: postID, AuthorID: authorID, AuthorName: "Ann", CreatedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func setup(t *testing.T) (*app.App, *apptest.Sink, http.Handler) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, Name, Needs, sink.URL)
	return a, sink, apptest.Function(t, a, New)
}

func TestThousandsOfFriendsEachGetOneNotification(t *testing.T) {
	a, sink, h := setup(t)
	const n = 3000
	ann, friends := author(t, a.Pool, n)
	// A user who is not Ann's friend must not hear about it.
	if _, err := a.Pool.Exec(context.Background(), `INSERT INTO users (email, name, password_hash) VALUES ('cid@example.com', 'Cid', 'x')`); err != nil {
		t.Fatal(err)
	}
	post := postCreated(t, ann)
	if rec := apptest.Deliver(t, h, post); rec.Code != http.StatusOK {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
	}
	a.Outbox.Wait()

	got := sink.Events()
	if len(got) != n {
		t.Fatalf("sink got %d events, want %d", len(got), n)
	}
	seen := map[string]int{}
	for _, e := range got {
		nc, err := events.Decode[events.NotificationCreated](e)
		if err != nil {
			t.Fatalf("emitted an invalid event: %v", err)
		}
		seen[nc.RecipientID]++
		if e.Type() != events.TypeNotificationCreated || e.Source() != source {
			t.Fatalf("type/source %s %s", e.Type(), e.Source())
		}
		if key, _ := e.Extensions()[events.PartitionKeyExtension].(string); key != nc.RecipientID {
			t.Fatalf("partition key %q, want the recipient %q", key, nc.RecipientID)
		}
		if nc.CauseSource != post.Source() || nc.CauseID != post.ID() || nc.Kind != events.KindPostCreated ||
			nc.ActorID != ann || nc.ActorName != "Ann" || nc.PostID != postID {
			t.Fatalf("payload %+v", nc)
		}
	}
	for f := range friends {
		if seen[f] != 1 {
			t.Fatalf("friend %s notified %d times", f, seen[f])
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct recipients, want %d", len(seen), n)
	}
	if unsent := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); unsent != 0 {
		t.Fatalf("%d outbox rows left unsent", unsent)
	}
}

func TestRedeliveredPostNotifiesNoOneTwice(t *testing.T) {
	a, sink, h := setup(t)
	ann, _ := author(t, a.Pool, 25)
	post := postCreated(t, ann)
	for i := 0; i < 3; i++ {
		if rec := apptest.Deliver(t, h, post); rec.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	a.Outbox.Wait()
	if got := len(sink.Events()); got != 25 {
		t.Fatalf("sink got %d events after 3 deliveries, want 25", got)
	}
	if rows := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox`); rows != 25 {
		t.Fatalf("%d outbox rows, want 25", rows)
	}
}

func TestAuthorWithoutFriendsEmitsNothing(t *testing.T) {
	a, sink, h := setup(t)
	ann, _ := author(t, a.Pool, 0)
	if rec := apptest.Deliver(t, h, postCreated(t, ann)); rec.Code != http.StatusOK {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
	}
	a.Outbox.Wait()
	if len(sink.Events()) != 0 || apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events`) != 1 {
		t.Fatal("want no events and the post recorded as processed")
	}
}

func TestSinkDownLeavesEventsForTheRelay(t *testing.T) {
	a, sink, h := setup(t)
	ann, _ := author(t, a.Pool, 40)
	sink.Down.Store(true)
	if rec := apptest.Deliver(t, h, postCreated(t, ann)); rec.Code != http.StatusOK {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
	}
	a.Outbox.Wait()
	if unsent := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); unsent != 40 {
		t.Fatalf("%d unsent rows while the sink is down, want 40", unsent)
	}
	sink.Down.Store(false)
	res, err := a.Outbox.Sweep(context.Background(), 0, 1000)
	if err != nil || res.Sent != 40 {
		t.Fatalf("sweep: %+v %v", res, err)
	}
	if got := len(sink.Events()); got != 40 {
		t.Fatalf("sink got %d after the sweep, want 40", got)
	}
}

func TestBadPostEventsAreRejectedAndWriteNothing(t *testing.T) {
	a, sink, h := setup(t)
	notUUID := apptest.Unchecked(t, "/tidings/post", events.TypePostCreated, postID, "not-a-uuid", events.PostCreated{
		PostID: postID, AuthorID: "not-a-uuid", AuthorName: "Ann", CreatedAt: time.Now().UTC(),
	})
	u := uuid.NewString()
	other, err := events.New("/tidings/signup", events.TypeUserSignedUp, u, u, events.UserSignedUp{UserID: u, Email: "u1@example.com", Name: "U", SignedUpAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	badPayload := postCreated(t, "a2b5b3c4-1d2e-4f00-9a00-000000000009")
	_ = badPayload.SetData(cloudevents.ApplicationJSON, map[string]any{"postId": "p"})
	for name, e := range map[string]cloudevents.Event{"author not a uuid": notUUID, "other type": other, "payload": badPayload} {
		if rec := apptest.Deliver(t, h, e); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, rec.Code)
		}
	}
	a.Outbox.Wait()
	if len(sink.Events()) != 0 || apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events`) != 0 {
		t.Fatal("a rejected event left a trace")
	}
}

func TestDatabaseDownIsRetryable(t *testing.T) {
	a, sink, h := setup(t)
	ann, _ := author(t, a.Pool, 3)
	a.Pool.Close()
	if rec := apptest.Deliver(t, h, postCreated(t, ann)); rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 so the KafkaSource retries", rec.Code)
	}
	if len(sink.Events()) != 0 {
		t.Fatal("events sent without a commit")
	}
}

// A post.created is a claim: fanout announces only a post that exists under
// the author it names, with the author's real name and the post's time.
func TestForgedPostsNotifyNoOne(t *testing.T) {
	a, sink, h := setup(t)
	ann, _ := author(t, a.Pool, 3)
	stranger := uuid.NewString()
	forged := func(post, by string) cloudevents.Event {
		e, err := events.New("/outside", events.TypePostCreated, post, by, events.PostCreated{
			PostID: post, AuthorID: by, AuthorName: "Mallory", CreatedAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for name, e := range map[string]cloudevents.Event{
		"a post that does not exist":  forged(uuid.NewString(), ann),
		"a post under another author": forged(postID, stranger),
	} {
		if rec := apptest.Deliver(t, h, e); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "refused") {
			t.Errorf("%s: %d %s, want 400 with the reason", name, rec.Code, rec.Body)
		}
	}
	a.Outbox.Wait()
	if len(sink.Events()) != 0 || apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox`) != 0 {
		t.Fatal("a forged post was announced")
	}
	// The real post, claimed with a false name and time, is announced as it is.
	if rec := apptest.Deliver(t, h, forged(postID, ann)); rec.Code != http.StatusOK {
		t.Fatalf("real post: %d %s", rec.Code, rec.Body)
	}
	a.Outbox.Wait()
	for _, e := range sink.Events() {
		n, err := events.Decode[events.NotificationCreated](e)
		if err != nil || n.ActorName != "Ann" || n.CreatedAt.After(time.Now()) {
			t.Fatalf("announced %+v (%v), want Ann's name and the post's time", n, err)
		}
	}
	if len(sink.Events()) != 3 {
		t.Fatalf("%d notifications, want 3", len(sink.Events()))
	}
}
