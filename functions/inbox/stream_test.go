package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/notification"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// smallSendBuffers makes the server's socket send buffers tiny, so a client
// that stops reading fills them after a few messages instead of megabytes.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096) //nolint:errcheck
	}
	return c, err
}

func (f *fixture) server(t *testing.T) *httptest.Server {
	srv := httptest.NewUnstartedServer(f.h)
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// dial opens the stream as a browser on a page of the site would: Origin is
// the public URL (PUBLIC_URL's default in tests), not the server's address.
func dial(t *testing.T, srv *httptest.Server, key *http.Cookie, origin string, smallReadBuffer bool) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if key != nil {
		h.Set("Cookie", key.String())
	}
	if origin == "" {
		origin = config.DefaultPublicURL
	}
	h.Set("Origin", origin)
	d := &net.Dialer{}
	if smallReadBuffer {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) }) //nolint:errcheck
		}
	}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/notifications/stream",
		&websocket.DialOptions{HTTPHeader: h, HTTPClient: client})
	if conn != nil {
		t.Cleanup(func() { conn.CloseNow() })
	}
	return conn, res, err
}

func (f *fixture) publish(t *testing.T, user string, it notification.Item) {
	t.Helper()
	raw, _ := json.Marshal(it)
	if err := f.a.Redis.Publish(context.Background(), notification.Channel(user), raw).Err(); err != nil {
		t.Fatal(err)
	}
}

// subscribed waits until n of user's clients are connected and Redis has
// the hub's subscription.
func (f *fixture) subscribed(t *testing.T, user string, n int) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, "the live subscription", func() bool {
		counts, err := f.a.Redis.PubSubNumSub(context.Background(), notification.Channel(user)).Result()
		return err == nil && counts[notification.Channel(user)] == 1 && f.hub.Subscribers(user) == n
	})
}

func read(t *testing.T, conn *websocket.Conn) notification.Item {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, raw, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("message type %v, want text", typ)
	}
	var it notification.Item
	if err := json.Unmarshal(raw, &it); err != nil {
		t.Fatalf("message %s: %v", raw, err)
	}
	return it
}

func item(id string) notification.Item {
	return notification.Item{ID: id, Type: "post.created", Actor: notification.Actor{ID: "a", Name: "Ann"}, Text: "Ann posted", CreatedAt: time.Now().UTC()}
}

func TestStreamDeliversPublishedNotifications(t *testing.T) {
	f := setup(t)
	srv := f.server(t)
	conn, _, err := dial(t, srv, f.bobKey, "", false)
	if err != nil {
		t.Fatal(err)
	}
	f.subscribed(t, f.bob, 1)
	f.publish(t, f.ann, item("for-ann")) // someone else's channel
	f.publish(t, f.bob, item("n1"))
	f.publish(t, f.bob, item("n2"))
	if got := read(t, conn); got.ID != "n1" || got.Text != "Ann posted" {
		t.Fatalf("first message %+v", got)
	}
	if got := read(t, conn); got.ID != "n2" {
		t.Fatalf("second message %+v", got)
	}
	// Closing the socket removes the subscription.
	conn.Close(websocket.StatusNormalClosure, "bye")
	testenv.Eventually(t, 5*time.Second, "the unsubscribe", func() bool {
		counts, err := f.a.Redis.PubSubNumSub(context.Background(), notification.Channel(f.bob)).Result()
		return err == nil && counts[notification.Channel(f.bob)] == 0 && f.hub.Subscribers(f.bob) == 0
	})
}

func TestStreamRefusesStrangersBeforeTheUpgrade(t *testing.T) {
	f := setup(t)
	srv := f.server(t)
	_, res, err := dial(t, srv, nil, "", false)
	if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no session: err %v, response %v", err, res)
	}
	for _, origin := range []string{"http://evil.example", "http://localhost:1", "null"} {
		_, res, err = dial(t, srv, f.bobKey, origin, false)
		if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s: err %v, response %v", origin, err, res)
		}
	}
	if f.hub.Subscribers(f.bob) != 0 {
		t.Fatal("a refused socket left a subscription")
	}
}

// rewritten serves the function as the cluster's HTTPRoute reaches it: its
// URLRewrite sets Host to the Service's cluster-local name
// (infra/cluster/http-route.yaml), while the browser's Origin stays the
// public site.
func (f *fixture) rewritten(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = "inbox.tidings.svc.cluster.local"
		f.h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStreamBehindTheHostRewriteAcceptsThePublicOrigin(t *testing.T) {
	f := setup(t)
	srv := f.rewritten(t)
	conn, res, err := dial(t, srv, f.bobKey, "http://localhost:8080", false)
	if err != nil {
		t.Fatalf("the public origin was refused behind the Host rewrite: %v (response %v)", err, res)
	}
	f.subscribed(t, f.bob, 1)
	f.publish(t, f.bob, item("n1"))
	if got := read(t, conn); got.ID != "n1" {
		t.Fatalf("message %+v", got)
	}
	// Neither another site nor the rewritten Host itself is the site.
	for _, origin := range []string{"https://evil.example", "http://inbox.tidings.svc.cluster.local", "http://localhost:3000"} {
		_, res, err := dial(t, srv, f.bobKey, origin, false)
		if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s behind the rewrite: err %v, response %v", origin, err, res)
		}
	}
}

// PUBLIC_ORIGINS adds origins; both checks (ours and coder/websocket's)
// accept them.
func TestStreamAcceptsTheExtraPublicOrigins(t *testing.T) {
	a := apptest.NewWith(t, Name, Needs, app.Settings{PublicURL: "https://tidings.example", PublicOrigins: "https://www.tidings.example"})
	fn := apptest.Function(t, a, New)
	f := &fixture{a: a, h: fn, hub: fn.hub, stream: fn.stream}
	bob := apptest.NewUser(t, a, "Bob", "bob@example.com")
	srv := f.rewritten(t)
	for _, origin := range []string{"https://tidings.example", "https://www.tidings.example"} {
		conn, res, err := dial(t, srv, bob.Cookie, origin, false)
		if err != nil {
			t.Fatalf("origin %s: %v (response %v)", origin, err, res)
		}
		conn.CloseNow() //nolint:errcheck
	}
	if _, res, err := dial(t, srv, bob.Cookie, "http://localhost:8080", false); err == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("the local origin was accepted for a public site: %v %v", err, res)
	}
}

func TestSlowClientIsDroppedWhileAFastOneKeepsReceiving(t *testing.T) {
	f := setup(t)
	f.stream.Buffer = 4
	srv := f.server(t)
	slow, _, err := dial(t, srv, f.bobKey, "", true)
	if err != nil {
		t.Fatal(err)
	}
	fast, _, err := dial(t, srv, f.bobKey, "", false)
	if err != nil {
		t.Fatal(err)
	}
	f.subscribed(t, f.bob, 2)
	// The slow client never reads; the fast one reads every message.
	big := strings.Repeat("x", 2000)
	sent := 0
	for ; f.hub.Dropped() == 0; sent++ {
		if sent > 5000 {
			t.Fatal("the slow client was never dropped")
		}
		it := item(big)
		it.Text = strings.Repeat("y", sent%3) // vary the payload a bit
		it.ID = big + string(rune('a'+sent%26))
		f.publish(t, f.bob, it)
		if got := read(t, fast); got.ID != it.ID {
			t.Fatalf("fast client got %q", got.ID[len(got.ID)-1:])
		}
	}
	// The fast one still receives after the drop.
	f.publish(t, f.bob, item("after"))
	if got := read(t, fast); got.ID != "after" {
		t.Fatalf("fast client after the drop got %q", got.ID)
	}
	// The slow one finds its backlog, then the close: policy violation.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := slow.Read(ctx)
		if err == nil {
			continue
		}
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("slow client ended with %v, want policy violation", err)
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) && ce.Reason != "too slow" {
			t.Fatalf("close reason %q", ce.Reason)
		}
		break
	}
	if f.hub.Dropped() != 1 {
		t.Fatalf("%d clients dropped, want 1", f.hub.Dropped())
	}
	t.Logf("slow client dropped after %d messages", sent)
}

func TestHeartbeatsDropAClientThatDoesNotAnswer(t *testing.T) {
	f := setup(t)
	f.stream.Heartbeat = 50 * time.Millisecond
	f.stream.WriteTimeout = 300 * time.Millisecond
	srv := f.server(t)
	live, _, err := dial(t, srv, f.annKey, "", false)
	if err != nil {
		t.Fatal(err)
	}
	live.CloseRead(context.Background()) // reads, so it answers pings
	dead, _, err := dial(t, srv, f.bobKey, "", false)
	if err != nil {
		t.Fatal(err)
	}
	_ = dead // never reads, so its pongs never come
	f.subscribed(t, f.ann, 1)
	testenv.Eventually(t, 5*time.Second, "the silent client to be dropped", func() bool { return f.hub.Subscribers(f.bob) == 0 })
	time.Sleep(500 * time.Millisecond) // many heartbeats
	if f.hub.Subscribers(f.ann) != 1 {
		t.Fatal("a client answering pings was dropped")
	}
}

func TestShutdownClosesStreams(t *testing.T) {
	f := setup(t)
	srv := f.server(t)
	conn, _, err := dial(t, srv, f.bobKey, "", false)
	if err != nil {
		t.Fatal(err)
	}
	f.subscribed(t, f.bob, 1)
	done := make(chan struct{})
	go func() { f.hub.Close(); close(done) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = conn.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("read after shutdown: %v, want going away", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("hub.Close did not return")
	}
	// A new socket after shutdown is refused, not left hanging.
	if _, res, err := dial(t, srv, f.bobKey, "", false); err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after shutdown: %v %v", err, res)
	}
}
