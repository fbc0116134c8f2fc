package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/notification"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/infra/testenv"
)

type fixture struct {
	a        *app.App
	h        http.Handler
	ann, bob string
}

func setup(t *testing.T) fixture {
	a := apptest.New(t, Name, Needs, "")
	f := fixture{a: a, h: apptest.Function(t, a, New)}
	for _, u := range []struct {
		name string
		id   *string
	}{{"Ann", &f.ann}, {"Bob", &f.bob}} {
		err := a.Pool.QueryRow(context.Background(), `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, 'x') RETURNING id::text`,
			u.name+"@example.com", u.name).Scan(u.id)
		if err != nil {
			t.Fatal(err)
		}
	}
	f.facts(t)
	return f
}

// facts makes true what the fixture's events claim: Ann's friend request to
// Bob (accepted, so they are friends) and Ann's post.
func (f fixture) facts(t *testing.T) {
	t.Helper()
	for q, args := range map[string][]any{
		`INSERT INTO friend_requests (id, from_user, to_user, status) VALUES ($1, $2, $3, 'accepted')`: {requestID, f.ann, f.bob},
		`INSERT INTO friendships (user_id, friend_id) VALUES ($1, $2), ($2, $1)`:                       {f.ann, f.bob},
		`INSERT INTO posts (id, author_id, text) VALUES ($1, $2, 'hello')`:                             {postID, f.ann},
	} {
		if _, err := f.a.Pool.Exec(context.Background(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// listen subscribes to user's live channel and returns its messages.
func listen(t *testing.T, rdb *redis.Client, user string) <-chan *redis.Message {
	t.Helper()
	ps := rdb.Subscribe(context.Background(), notification.Channel(user))
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.Receive(context.Background()); err != nil { // the subscription confirmation
		t.Fatal(err)
	}
	return ps.Channel()
}

func next(t *testing.T, ch <-chan *redis.Message) notification.Item {
	t.Helper()
	select {
	case m := <-ch:
		var it notification.Item
		if err := json.Unmarshal([]byte(m.Payload), &it); err != nil {
			t.Fatalf("live message %q: %v", m.Payload, err)
		}
		return it
	case <-time.After(5 * time.Second):
		t.Fatal("no live message")
	}
	return notification.Item{}
}

func quiet(t *testing.T, ch <-chan *redis.Message) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("unexpected live message %s", m.Payload)
	case <-time.After(300 * time.Millisecond):
	}
}

func mustEvent(t *testing.T, typ, subject, key string, payload any) cloudevents.Event {
	t.Helper()
	e, err := events.New("/tidings/test", typ, subject, key, payload)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// requestID and postID are the friend request and the post the fixture's
// events are about.
const (
	requestID = "0c9a3b1e-0000-4000-8000-0000000000a1"
	postID    = "0c9a3b1e-0000-4000-8000-000000000001"
)

func (f fixture) requested(t *testing.T) cloudevents.Event {
	return mustEvent(t, events.TypeFriendRequested, requestID, f.bob, events.FriendRequested{
		RequestID: requestID, FromUserID: f.ann, FromName: "Ann", ToUserID: f.bob, RequestedAt: time.Now().UTC()})
}

func (f fixture) accepted(t *testing.T) cloudevents.Event {
	return mustEvent(t, events.TypeFriendAccepted, requestID, f.ann, events.FriendAccepted{
		RequestID: requestID, RequesterID: f.ann, AccepterID: f.bob, AccepterName: "Bob", AcceptedAt: time.Now().UTC()})
}

func (f fixture) posted(t *testing.T, causeID string) cloudevents.Event {
	return mustEvent(t, events.TypeNotificationCreated, "p1", f.bob, events.NotificationCreated{
		RecipientID: f.bob, Kind: events.KindPostCreated, ActorID: f.ann, ActorName: "Ann",
		PostID: postID, CauseSource: "/tidings/post", CauseID: causeID, CreatedAt: time.Now().UTC()})
}

func TestEachEventIsStoredAndPublishedLive(t *testing.T) {
	f := setup(t)
	annLive, bobLive := listen(t, f.a.Redis, f.ann), listen(t, f.a.Redis, f.bob)
	cases := []struct {
		e        cloudevents.Event
		live     <-chan *redis.Message
		typ      string
		actor    string
		text     string
		withPost bool
	}{
		{f.requested(t), bobLive, events.KindFriendRequested, f.ann, "Ann sent you a friend request", false},
		{f.accepted(t), annLive, events.KindFriendAccepted, f.bob, "Bob accepted your friend request", false},
		{f.posted(t, "post-event-1"), bobLive, events.KindPostCreated, f.ann, "Ann posted", true},
	}
	for _, c := range cases {
		if rec := apptest.Deliver(t, f.h, c.e); rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.typ, rec.Code, rec.Body)
		}
		it := next(t, c.live)
		if it.Type != c.typ || it.Actor.ID != c.actor || it.Text != c.text || it.Read || it.ID == "" || it.CreatedAt.IsZero() {
			t.Fatalf("%s: live item %+v", c.typ, it)
		}
		if c.withPost != (it.PostID != "") {
			t.Fatalf("%s: postId %q", c.typ, it.PostID)
		}
		// The live message is the stored row.
		stored, err := notification.Scan(f.a.Pool.QueryRow(context.Background(),
			`SELECT `+notification.Columns("")+` FROM notifications WHERE id = $1`, it.ID))
		if err != nil {
			t.Fatalf("%s: stored row: %v", c.typ, err)
		}
		if !stored.CreatedAt.Equal(it.CreatedAt) || stored.Text != it.Text || stored.Actor != it.Actor {
			t.Fatalf("%s: stored %+v, live %+v", c.typ, stored, it)
		}
	}
	// The cause of a friend event is the event itself.
	req := cases[0].e
	if n := apptest.Count(t, f.a.Pool, `SELECT count(*) FROM notifications WHERE cause_source = $1 AND cause_id = $2`, req.Source(), req.ID()); n != 1 {
		t.Fatalf("friend.requested stored with cause %d times", n)
	}
}

func TestRedeliveryAndSameCauseStoreAndPublishOnce(t *testing.T) {
	f := setup(t)
	live := listen(t, f.a.Redis, f.bob)
	e := f.posted(t, "post-event-2")
	for i := 0; i < 3; i++ {
		if rec := apptest.Deliver(t, f.h, e); rec.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d", i+1, rec.Code)
		}
	}
	// A different event naming the same cause (a replay through another
	// fan-out) is a duplicate too.
	if rec := apptest.Deliver(t, f.h, f.posted(t, "post-event-2")); rec.Code != http.StatusOK {
		t.Fatalf("same cause: %d", rec.Code)
	}
	next(t, live)
	quiet(t, live)
	if n := apptest.Count(t, f.a.Pool, `SELECT count(*) FROM notifications`); n != 1 {
		t.Fatalf("%d notifications stored, want 1", n)
	}
}

func TestRedisDownStillStoresTheNotification(t *testing.T) {
	f := setup(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	down := redis.NewClient(&redis.Options{Addr: dead, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer down.Close()
	working := f.a.Redis
	f.a.Redis = down
	h := apptest.Function(t, f.a, New)
	f.a.Redis = working
	if rec := apptest.Deliver(t, h, f.requested(t)); rec.Code != http.StatusOK {
		t.Fatalf("status %d with Redis down, want 200: the row is the truth", rec.Code)
	}
	if n := apptest.Count(t, f.a.Pool, `SELECT count(*) FROM notifications WHERE recipient_id = $1`, f.bob); n != 1 {
		t.Fatalf("%d rows stored", n)
	}
}

// notify's data is in Postgres: it starts, is ready and stores
// notifications while Redis is down; only the live push waits.
func TestNotifyStartsAndIsReadyWithoutRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	ctx := context.Background()
	a, err := app.New(ctx, Name, Needs, app.Settings{DatabaseURL: testenv.Postgres(t), RedisURL: "redis://" + dead})
	if err != nil {
		t.Fatalf("notify did not start with Redis down: %v", err)
	}
	t.Cleanup(a.Close)
	if err := pg.Migrate(ctx, a.Pool); err != nil {
		t.Fatal(err)
	}
	if err := a.Ready(ctx); err != nil {
		t.Fatalf("not ready with Redis down: %v", err)
	}
	fn := apptest.Function(t, a, New)
	f := fixture{a: a, h: fn}
	f.ann = apptest.NewUser(t, a, "Ann", "ann@example.com").ID
	f.bob = apptest.NewUser(t, a, "Bob", "bob@example.com").ID
	f.facts(t)
	if rec := apptest.Deliver(t, f.h, f.requested(t)); rec.Code != http.StatusOK {
		t.Fatalf("status %d with Redis down, want 200", rec.Code)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM notifications WHERE recipient_id = $1`, f.bob); n != 1 {
		t.Fatalf("%d rows stored", n)
	}
}

func TestPostgresDownIsRetryable(t *testing.T) {
	f := setup(t)
	live := listen(t, f.a.Redis, f.bob)
	f.a.Pool.Close()
	if rec := apptest.Deliver(t, f.h, f.requested(t)); rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 so the KafkaSource retries", rec.Code)
	}
	quiet(t, live)
}

func TestBadEventsAreRejectedAndStoreNothing(t *testing.T) {
	f := setup(t)
	live := listen(t, f.a.Redis, f.bob)
	notUUID := apptest.Unchecked(t, "/tidings/test", events.TypeFriendRequested, requestID, "x", events.FriendRequested{
		RequestID: requestID, FromUserID: f.ann, FromName: "Ann", ToUserID: "not-a-uuid", RequestedAt: time.Now()})
	unknown := mustEvent(t, events.TypeFriendRequested, requestID, "x", events.FriendRequested{
		RequestID: requestID, FromUserID: f.ann, FromName: "Ann", ToUserID: "0c9a3b1e-0000-4000-8000-0000000000ff", RequestedAt: time.Now()})
	badPost := f.posted(t, "c")
	_ = badPost.SetData(cloudevents.ApplicationJSON, events.NotificationCreated{
		RecipientID: f.bob, Kind: events.KindPostCreated, ActorID: f.ann, ActorName: "Ann", PostID: "p-1",
		CauseSource: "/tidings/post", CauseID: "c", CreatedAt: time.Now()})
	badKind := f.posted(t, "c")
	_ = badKind.SetData(cloudevents.ApplicationJSON, map[string]any{"recipientId": f.bob, "kind": "poke", "actorId": f.ann,
		"actorName": "Ann", "causeSource": "s", "causeId": "c", "createdAt": time.Now()})
	u := uuid.NewString()
	signedUp := mustEvent(t, events.TypeUserSignedUp, u, u, events.UserSignedUp{UserID: u, Email: "u@example.com", Name: "U", SignedUpAt: time.Now()})
	for name, e := range map[string]cloudevents.Event{
		"recipient not a uuid": notUUID, "unknown recipient": unknown, "post id not a uuid": badPost,
		"unknown kind": badKind, "type it does not consume": signedUp,
	} {
		if rec := apptest.Deliver(t, f.h, e); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, rec.Code, rec.Body)
		}
	}
	if n := apptest.Count(t, f.a.Pool, `SELECT count(*) FROM notifications`) + apptest.Count(t, f.a.Pool, `SELECT count(*) FROM processed_events`); n != 0 {
		t.Fatalf("rejected events left %d rows", n)
	}
	quiet(t, live)
}

// Events are claims: notify stores only what the database confirms, with
// the database's names and times.
func TestForgedEventsAreRefusedAndStoreNothing(t *testing.T) {
	f := setup(t)
	cid := apptest.NewUser(t, f.a, "Cid", "cid@example.com").ID
	bobLive, cidLive := listen(t, f.a.Redis, f.bob), listen(t, f.a.Redis, cid)
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	postTo := func(recipient, post, actor string) cloudevents.Event {
		return mustEvent(t, events.TypeNotificationCreated, post, recipient, events.NotificationCreated{
			RecipientID: recipient, Kind: events.KindPostCreated, ActorID: actor, ActorName: "Ann",
			PostID: post, CauseSource: "/outside", CauseID: uuid.NewString(), CreatedAt: future})
	}
	accepted := func(req, requester, accepter string) cloudevents.Event {
		return mustEvent(t, events.TypeFriendAccepted, req, requester, events.FriendAccepted{
			RequestID: req, RequesterID: requester, AccepterID: accepter, AccepterName: "X", AcceptedAt: time.Now().UTC()})
	}
	pending := uuid.NewString()
	if _, err := f.a.Pool.Exec(context.Background(), `INSERT INTO friend_requests (id, from_user, to_user, status) VALUES ($1, $2, $3, 'pending')`, pending, cid, f.ann); err != nil {
		t.Fatal(err)
	}
	friendKind := postTo(f.bob, postID, f.ann)
	_ = friendKind.SetData(cloudevents.ApplicationJSON, events.NotificationCreated{RecipientID: f.bob, Kind: events.KindFriendAccepted,
		ActorID: f.ann, ActorName: "Ann", CauseSource: "/outside", CauseID: "x", CreatedAt: future})
	for name, e := range map[string]cloudevents.Event{
		"a post notification, dated 2099, to a stranger": postTo(cid, postID, f.ann),
		"a post that does not exist":                     postTo(f.bob, uuid.NewString(), f.ann),
		"a post under another author":                    postTo(f.bob, postID, cid),
		"friend.accepted for no friendship":              accepted(uuid.NewString(), cid, f.bob),
		"friend.accepted for a request still pending":    accepted(pending, cid, f.ann),
		"friend.accepted with the parties swapped":       accepted(requestID, f.bob, f.ann),
		"friend.requested for no request": mustEvent(t, events.TypeFriendRequested, "r", cid, events.FriendRequested{
			RequestID: uuid.NewString(), FromUserID: f.bob, FromName: "Bob", ToUserID: cid, RequestedAt: time.Now().UTC()}),
		"a friend notification as notification.created": friendKind,
	} {
		rec := apptest.Deliver(t, f.h, e)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "detail") {
			t.Errorf("%s: %d %s, want 400 with the reason", name, rec.Code, rec.Body)
		}
	}
	if n := apptest.Count(t, f.a.Pool, `SELECT count(*) FROM notifications`) + apptest.Count(t, f.a.Pool, `SELECT count(*) FROM processed_events`); n != 0 {
		t.Fatalf("forged events left %d rows", n)
	}
	quiet(t, bobLive)
	quiet(t, cidLive)
}

func TestAClaimedTimeAndNameGiveWayToTheDatabase(t *testing.T) {
	f := setup(t)
	live := listen(t, f.a.Redis, f.bob)
	e := mustEvent(t, events.TypeNotificationCreated, postID, f.bob, events.NotificationCreated{
		RecipientID: f.bob, Kind: events.KindPostCreated, ActorID: f.ann, ActorName: "Mallory",
		PostID: postID, CauseSource: "/tidings/post", CauseID: uuid.NewString(), CreatedAt: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})
	if rec := apptest.Deliver(t, f.h, e); rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	it := next(t, live)
	var posted time.Time
	if err := f.a.Pool.QueryRow(context.Background(), `SELECT created_at FROM posts WHERE id = $1`, postID).Scan(&posted); err != nil {
		t.Fatal(err)
	}
	if !it.CreatedAt.Equal(posted.UTC()) || it.CreatedAt.After(time.Now()) || it.Actor.Name != "Ann" || it.Text != "Ann posted" {
		t.Fatalf("stored %+v, want the post's time %v and the author's name", it, posted)
	}
}

// A cancelled friend request takes its notification back, once, tells the
// recipient's open clients, and stays gone whatever is redelivered or
// replayed, in either order.
func TestACancelledRequestTakesBackItsNotification(t *testing.T) {
	f := setup(t)
	cid := apptest.NewUser(t, f.a, "Cid", "cid@example.com").ID
	bobLive := listen(t, f.a.Redis, f.bob)
	req := uuid.NewString()
	if _, err := f.a.Pool.Exec(context.Background(), `INSERT INTO friend_requests (id, from_user, to_user, status) VALUES ($1, $2, $3, 'pending')`, req, cid, f.bob); err != nil {
		t.Fatal(err)
	}
	requested := mustEvent(t, events.TypeFriendRequested, req, f.bob, events.FriendRequested{
		RequestID: req, FromUserID: cid, FromName: "Cid", ToUserID: f.bob, RequestedAt: time.Now().UTC()})
	cancelled := func() cloudevents.Event {
		return mustEvent(t, events.TypeFriendCancelled, req, f.bob, events.FriendCancelled{
			RequestID: req, FromUserID: cid, ToUserID: f.bob, CancelledAt: time.Now().UTC()})
	}
	// Ann's request (the fixture's) must survive Cid's cancel.
	for _, e := range []cloudevents.Event{f.requested(t), requested} {
		if rec := apptest.Deliver(t, f.h, e); rec.Code != http.StatusOK {
			t.Fatalf("request: %d %s", rec.Code, rec.Body)
		}
		next(t, bobLive)
	}
	// A cancel the database does not confirm is refused and removes nothing.
	if rec := apptest.Deliver(t, f.h, cancelled()); rec.Code != http.StatusBadRequest {
		t.Fatalf("a cancel of a pending request: %d %s, want 400", rec.Code, rec.Body)
	}
	if _, err := f.a.Pool.Exec(context.Background(), `UPDATE friend_requests SET status = 'cancelled' WHERE id = $1`, req); err != nil {
		t.Fatal(err)
	}
	first := cancelled()
	for i, e := range []cloudevents.Event{first, first, cancelled()} {
		if rec := apptest.Deliver(t, f.h, e); rec.Code != http.StatusOK {
			t.Fatalf("cancel %d: %d %s", i+1, rec.Code, rec.Body)
		}
		if i == 0 {
			select {
			case m := <-bobLive:
				if m.Payload != `{"changed":"removed"}` {
					t.Fatalf("live message %s, want the list changed", m.Payload)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Bob's clients were not told")
			}
		}
	}
	quiet(t, bobLive) // a cancel that removes nothing tells no one
	// The request heard again (a replay) after its cancel stores nothing.
	if rec := apptest.Deliver(t, f.h, mustEvent(t, events.TypeFriendRequested, req, f.bob, events.FriendRequested{
		RequestID: req, FromUserID: cid, FromName: "Cid", ToUserID: f.bob, RequestedAt: time.Now().UTC()})); rec.Code != http.StatusOK {
		t.Fatalf("replayed request: %d %s", rec.Code, rec.Body)
	}
	quiet(t, bobLive)
	if n := apptest.Count(t, f.a.Pool, `SELECT count(*) FROM notifications WHERE recipient_id = $1 AND actor_id = $2`, f.bob, cid); n != 0 {
		t.Fatalf("%d notifications of the cancelled request left", n)
	}
	if n := apptest.Count(t, f.a.Pool, `SELECT count(*) FROM notifications WHERE recipient_id = $1 AND actor_id = $2`, f.bob, f.ann); n != 1 {
		t.Fatalf("Ann's request notification: %d rows, want 1", n)
	}
}

// The hot path is round trips: a new notification is checked and stored by
// one statement, in the consumer's transaction (begin, dedup, store, commit).
func TestANotificationIsCheckedAndStoredInOneStatement(t *testing.T) {
	f := setup(t)
	pool, statements := apptest.TracedPool(t, f.a.Pool)
	ob, err := outbox.New(pool, "", f.a.Log)
	if err != nil {
		t.Fatal(err)
	}
	h := apptest.Function(t, &app.App{Name: Name, Log: f.a.Log, Pool: pool, Redis: f.a.Redis, Outbox: ob}, New)
	live := listen(t, f.a.Redis, f.bob)
	if rec := apptest.Deliver(t, h, f.posted(t, uuid.NewString())); rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if it := next(t, live); it.Type != events.KindPostCreated {
		t.Fatalf("live %+v", it)
	}
	if n, store := statements.Count(""), statements.Count("WITH FACTS"); n != 4 || store != 1 {
		t.Fatalf("%d statements, %d of them the checked insert; want 4: begin, dedup, one checked insert, commit", n, store)
	}
}
