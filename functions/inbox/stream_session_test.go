package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// flushDB is the Redis database the flush case empties: its own, so
// flushing it cannot touch other tests' keys in the shared test Redis.
const flushDB = 9

// An open socket ends with 1008 when its session does: logged out, logged
// out everywhere, ended by a newer login beyond the bound, expired, or gone
// with a Redis flush. Until then it keeps receiving. What announces itself
// (the first three) closes the socket at once, with no periodic check to
// help; the rest is found by the check.
func TestStreamClosesWhenTheSessionEnds(t *testing.T) {
	for _, c := range []struct {
		name    string
		recheck time.Duration
		prepare func(*app.App)
		end     func(t *testing.T, f *fixture)
	}{
		{"logout", time.Hour, nil, func(t *testing.T, f *fixture) {
			if err := f.a.Sessions.Delete(context.Background(), f.bobKey.Value); err != nil {
				t.Fatal(err)
			}
		}},
		{"logout everywhere", time.Hour, nil, func(t *testing.T, f *fixture) {
			if _, err := f.a.Sessions.DeleteAll(context.Background(), f.bob); err != nil {
				t.Fatal(err)
			}
		}},
		{"a newer login beyond the bound", time.Hour, func(a *app.App) { a.Sessions.MaxPerUser = 1 }, func(t *testing.T, f *fixture) {
			if _, err := f.a.Sessions.Create(context.Background(), f.bob); err != nil {
				t.Fatal(err)
			}
		}},
		{"idle expiry", 100 * time.Millisecond, func(a *app.App) { a.Sessions.Idle = time.Second }, func(t *testing.T, f *fixture) {
			// The socket itself does not keep the session alive.
		}},
		{"redis flush", 100 * time.Millisecond, func(a *app.App) {
			opts, err := redis.ParseURL(testenv.Redis(t))
			if err != nil {
				t.Fatal(err)
			}
			opts.DB = flushDB
			a.Redis = redis.NewClient(opts)
			a.Sessions = session.NewStore(a.Redis)
		}, func(t *testing.T, f *fixture) {
			if err := f.a.Redis.FlushDB(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := setupWith(t, c.prepare)
			f.stream.Recheck = c.recheck
			srv := f.server(t)
			bob, _, err := dial(t, srv, f.bobKey, "", false)
			if err != nil {
				t.Fatal(err)
			}
			ann, _, err := dial(t, srv, f.annKey, "", false)
			if err != nil {
				t.Fatal(err)
			}
			f.subscribed(t, f.bob, 1)
			f.publish(t, f.bob, item("before"))
			if got := read(t, bob); got.ID != "before" {
				t.Fatalf("before the end: %+v", got)
			}
			c.end(t, f)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _, err = bob.Read(ctx)
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != "session ended" {
				t.Fatalf("after the session ended: %v, want 1008 session ended", err)
			}
			testenv.Eventually(t, 5*time.Second, "the ended socket to leave", func() bool { return f.hub.Subscribers(f.bob) == 0 })
			if c.recheck == time.Hour {
				// Another user's socket is untouched.
				f.subscribed(t, f.ann, 1)
				f.publish(t, f.ann, item("still"))
				if got := read(t, ann); got.ID != "still" {
					t.Fatalf("ann's socket: %+v", got)
				}
			}
		})
	}
}

// One user holds at most MaxPerUser sockets on an instance; one more is
// refused before the upgrade with 429, and the others keep working.
func TestStreamCapsSocketsPerUser(t *testing.T) {
	f := setup(t)
	f.hub.MaxPerUser = 3
	srv := f.server(t)
	var open []*websocket.Conn
	for i := 0; i < 3; i++ {
		conn, _, err := dial(t, srv, f.bobKey, "", false)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, conn)
	}
	_, res, err := dial(t, srv, f.bobKey, "", false)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth socket: err %v, response %v", err, res)
	}
	// Another user still gets in.
	if _, _, err := dial(t, srv, f.annKey, "", false); err != nil {
		t.Fatalf("another user refused: %v", err)
	}
	f.subscribed(t, f.bob, 3)
	f.publish(t, f.bob, item("n"))
	for i, conn := range open {
		if got := read(t, conn); got.ID != "n" {
			t.Fatalf("socket %d: %+v", i, got)
		}
	}
	// Closing one makes room.
	open[0].Close(websocket.StatusNormalClosure, "bye")
	testenv.Eventually(t, 5*time.Second, "the room", func() bool { return f.hub.Subscribers(f.bob) == 2 })
	if _, _, err := dial(t, srv, f.bobKey, "", false); err != nil {
		t.Fatalf("after a close: %v", err)
	}
}

// Logging out one session closes only the sockets riding on it.
func TestLogoutClosesOnlyThatSessionsSockets(t *testing.T) {
	f := setup(t)
	f.stream.Recheck = time.Hour
	srv := f.server(t)
	token, err := f.a.Sessions.Create(context.Background(), f.bob)
	if err != nil {
		t.Fatal(err)
	}
	phone, _, err := dial(t, srv, &http.Cookie{Name: session.CookieName, Value: token}, "", false)
	if err != nil {
		t.Fatal(err)
	}
	laptop, _, err := dial(t, srv, f.bobKey, "", false)
	if err != nil {
		t.Fatal(err)
	}
	f.subscribed(t, f.bob, 2)
	if err := f.a.Sessions.Delete(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := phone.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("the logged-out socket: %v", err)
	}
	testenv.Eventually(t, 5*time.Second, "the logged-out socket to leave", func() bool { return f.hub.Subscribers(f.bob) == 1 })
	f.publish(t, f.bob, item("still"))
	if got := read(t, laptop); got.ID != "still" {
		t.Fatalf("the other session's socket: %+v", got)
	}
}
