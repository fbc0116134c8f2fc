package apptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"

	"github.com/tidings-dev/tidings/events"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

// User is a person in the test database, logged in if the App has sessions.
type User struct {
	ID, Name string
	Cookie   *http.Cookie // nil without sessions
}

// NewUser inserts a user (no usable password) and starts a session for them.
func NewUser(t testing.TB, a *app.App, name, email string) User {
	t.Helper()
	ctx := context.Background()
	u := User{Name: name}
	if err := a.Pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, 'x') RETURNING id::text`, email, name).Scan(&u.ID); err != nil {
		t.Fatalf("insert user %s: %v", email, err)
	}
	if a.Sessions != nil {
		token, err := a.Sessions.Create(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		u.Cookie = &http.Cookie{Name: session.CookieName, Value: token}
	}
	return u
}

// Deliver POSTs e to h in binary mode, as the KafkaSource dispatcher does.
func Deliver(t testing.TB, h http.Handler, e event.Event) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/", nil)
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		t.Fatal(err)
	}
	return Serve(h, req)
}

// Befriend makes x and y friends directly in the database (both directions,
// as the friends function stores them).
func Befriend(t testing.TB, a *app.App, x, y User) {
	t.Helper()
	if _, err := a.Pool.Exec(context.Background(), `INSERT INTO friendships (user_id, friend_id) VALUES ($1, $2), ($2, $1)`, x.ID, y.ID); err != nil {
		t.Fatalf("befriend: %v", err)
	}
}

// Unchecked builds a CloudEvent the way events.New does but without
// validating it, for tests that deliver deliberately bad events.
func Unchecked(t testing.TB, source, eventType, subject, partitionKey string, payload any) event.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(uuid.NewString())
	e.SetSource(source)
	e.SetType(eventType)
	e.SetSubject(subject)
	e.SetTime(time.Now().UTC())
	e.SetExtension(events.PartitionKeyExtension, partitionKey)
	if spec, ok := events.Lookup(eventType); ok {
		e.SetDataSchema(spec.SchemaURI())
	}
	if err := e.SetData(cloudevents.ApplicationJSON, payload); err != nil {
		t.Fatal(err)
	}
	return e
}
