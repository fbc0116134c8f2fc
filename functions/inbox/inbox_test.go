package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/notification"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

type fixture struct {
	a              *app.App
	h              http.Handler
	hub            *Hub
	stream         *Stream
	ann, bob       string
	annKey, bobKey *http.Cookie
}

func setup(t *testing.T) *fixture { return setupWith(t, nil) }

// setupWith lets prepare change the App (its Redis, its session store)
// before the function is built on it.
func setupWith(t *testing.T, prepare func(*app.App)) *fixture {
	a := apptest.New(t, Name, Needs, "")
	if prepare != nil {
		prepare(a)
	}
	fn := apptest.Function(t, a, New)
	f := &fixture{a: a, h: fn, hub: fn.hub, stream: fn.stream}
	ctx := context.Background()
	for _, u := range []struct {
		name string
		id   *string
		key  **http.Cookie
	}{{"Ann", &f.ann, &f.annKey}, {"Bob", &f.bob, &f.bobKey}} {
		if err := a.Pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, 'x') RETURNING id::text`,
			u.name+"@example.com", u.name).Scan(u.id); err != nil {
			t.Fatal(err)
		}
		token, err := a.Sessions.Create(ctx, *u.id)
		if err != nil {
			t.Fatal(err)
		}
		*u.key = &http.Cookie{Name: session.CookieName, Value: token}
	}
	return f
}

// notify stores n post notifications for recipient from actor, one second
// apart, oldest first, and returns their ids newest first.
func (f *fixture) notify(t *testing.T, recipient, actor, actorName string, n int) []string {
	t.Helper()
	rows, err := f.a.Pool.Query(context.Background(), `
		INSERT INTO notifications (recipient_id, kind, actor_id, actor_name, post_id, cause_source, cause_id, created_at)
		SELECT $1, 'post.created', $2, $3, gen_random_uuid(), '/tidings/post', gen_random_uuid()::text, now() - make_interval(secs => $4 - g)
		FROM generate_series(1, $4) g RETURNING id::text, created_at`, recipient, actor, actorName, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		ids = append([]string{id}, ids...)
	}
	return ids
}

type listBody struct {
	Notifications []notification.Item `json:"notifications"`
	NextCursor    *string             `json:"nextCursor"`
	Unread        int                 `json:"unread"`
}

func (f *fixture) list(t *testing.T, key *http.Cookie, query string) listBody {
	t.Helper()
	rec := apptest.Serve(f.h, apptest.Request("GET", "/api/notifications"+query, "", key))
	if rec.Code != http.StatusOK {
		t.Fatalf("list %s: %d %s", query, rec.Code, rec.Body)
	}
	var b listBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestListPagesNewestFirstWithUnreadCount(t *testing.T) {
	f := setup(t)
	want := f.notify(t, f.bob, f.ann, "Ann", 25)
	f.notify(t, f.ann, f.bob, "Bob", 2) // someone else's

	first := f.list(t, f.bobKey, "")
	if len(first.Notifications) != 20 || first.NextCursor == nil || first.Unread != 25 {
		t.Fatalf("first page: %d items, next %v, unread %d", len(first.Notifications), first.NextCursor, first.Unread)
	}
	second := f.list(t, f.bobKey, "?limit=20&cursor="+url.QueryEscape(*first.NextCursor))
	if len(second.Notifications) != 5 || second.NextCursor != nil {
		t.Fatalf("second page: %d items, next %v", len(second.Notifications), second.NextCursor)
	}
	got := append(first.Notifications, second.Notifications...)
	for i, it := range got {
		if it.ID != want[i] {
			t.Fatalf("item %d is %s, want %s (newest first)", i, it.ID, want[i])
		}
		if it.Type != "post.created" || it.Text != "Ann posted" || it.Actor.ID != f.ann || it.Actor.Name != "Ann" || it.PostID == "" || it.Read {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	// The raw JSON has exactly the documented keys.
	rec := apptest.Serve(f.h, apptest.Request("GET", "/api/notifications?limit=1", "", f.bobKey))
	var raw struct {
		Notifications []map[string]json.RawMessage `json:"notifications"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || len(raw.Notifications) != 1 {
		t.Fatalf("raw list: %s", rec.Body)
	}
	for _, k := range []string{"id", "type", "actor", "postId", "text", "read", "createdAt"} {
		if _, ok := raw.Notifications[0][k]; !ok {
			t.Fatalf("item lacks %q: %s", k, rec.Body)
		}
	}
	if empty := f.list(t, f.annKey, "?limit=5"); len(empty.Notifications) != 2 || empty.Unread != 2 {
		t.Fatalf("ann's list: %+v", empty)
	}
}

func TestEmptyListIsAnEmptyArray(t *testing.T) {
	f := setup(t)
	rec := apptest.Serve(f.h, apptest.Request("GET", "/api/notifications", "", f.annKey))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"notifications":[]`) || !strings.Contains(rec.Body.String(), `"nextCursor":null`) {
		t.Fatalf("empty list: %d %s", rec.Code, rec.Body)
	}
}

func TestBadPagingIsAProblemNamingTheField(t *testing.T) {
	f := setup(t)
	for query, field := range map[string]string{
		"?limit=0": "limit", "?limit=101": "limit", "?limit=ten": "limit", "?cursor=bm90LWEtY3Vyc29y": "cursor", "?cursor=!!": "cursor",
	} {
		rec := apptest.Serve(f.h, apptest.Request("GET", "/api/notifications"+query, "", f.bobKey))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", query, rec.Code)
			continue
		}
		if p := apptest.ProblemOf(t, rec); len(p.Fields()) != 1 || p.Fields()[0] != field {
			t.Errorf("%s: fields %v, want %s", query, p.Fields(), field)
		}
	}
}

func TestEveryRouteNeedsASession(t *testing.T) {
	f := setup(t)
	forged := &http.Cookie{Name: session.CookieName, Value: "forged"}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/notifications", ""},
		{"POST", "/api/notifications/read", `{"all":true}`},
		{"GET", "/api/notifications/stream", ""},
	} {
		for _, c := range []*http.Cookie{nil, forged} {
			req := apptest.Request(r.method, r.path, r.body)
			if c != nil {
				req.AddCookie(c)
			}
			rec := apptest.Serve(f.h, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s (cookie %v): %d", r.method, r.path, c != nil, rec.Code)
			}
			apptest.ProblemOf(t, rec)
		}
	}
}

func (f *fixture) unread(t *testing.T, user string) int {
	return apptest.Count(t, f.a.Pool, `SELECT count(*) FROM notifications WHERE recipient_id = $1 AND read_at IS NULL`, user)
}

func TestMarkReadByIdsTouchesOnlyYourOwn(t *testing.T) {
	f := setup(t)
	bobs := f.notify(t, f.bob, f.ann, "Ann", 5)
	anns := f.notify(t, f.ann, f.bob, "Bob", 2)
	body := fmt.Sprintf(`{"ids":[%q,%q,%q]}`, bobs[0], bobs[1], anns[0])
	if rec := apptest.Serve(f.h, apptest.Request("POST", "/api/notifications/read", body, f.bobKey)); rec.Code != http.StatusNoContent {
		t.Fatalf("read: %d %s", rec.Code, rec.Body)
	}
	if f.unread(t, f.bob) != 3 || f.unread(t, f.ann) != 2 {
		t.Fatalf("unread bob %d (want 3), ann %d (want 2)", f.unread(t, f.bob), f.unread(t, f.ann))
	}
	l := f.list(t, f.bobKey, "")
	if l.Unread != 3 || !l.Notifications[0].Read || !l.Notifications[1].Read || l.Notifications[2].Read {
		t.Fatalf("list after read: unread %d, %+v", l.Unread, l.Notifications[:3])
	}
	if rec := apptest.Serve(f.h, apptest.Request("POST", "/api/notifications/read", `{"all":true}`, f.bobKey)); rec.Code != http.StatusNoContent {
		t.Fatalf("read all: %d %s", rec.Code, rec.Body)
	}
	if f.unread(t, f.bob) != 0 || f.unread(t, f.ann) != 2 {
		t.Fatalf("after read all: bob %d, ann %d", f.unread(t, f.bob), f.unread(t, f.ann))
	}
}

// Marking read in one tab tells the user's other tabs and devices, on their
// live channel, so their bells follow; a read that changes nothing does not.
func TestMarkReadTellsTheOtherClients(t *testing.T) {
	f := setup(t)
	bobs := f.notify(t, f.bob, f.ann, "Ann", 2)
	ps := f.a.Redis.Subscribe(context.Background(), notification.Channel(f.bob))
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	live := ps.Channel()
	for _, body := range []string{fmt.Sprintf(`{"ids":[%q]}`, bobs[0]), `{"all":true}`, `{"all":true}`} {
		if rec := apptest.Serve(f.h, apptest.Request("POST", "/api/notifications/read", body, f.bobKey)); rec.Code != http.StatusNoContent {
			t.Fatalf("read %s: %d %s", body, rec.Code, rec.Body)
		}
	}
	for i := range 2 {
		select {
		case m := <-live:
			if m.Payload != `{"changed":"read"}` {
				t.Fatalf("message %d: %s", i+1, m.Payload)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d never came", i+1)
		}
	}
	select {
	case m := <-live:
		t.Fatalf("a read that changed nothing was told: %s", m.Payload)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestBadReadRequestsChangeNothing(t *testing.T) {
	f := setup(t)
	ids := f.notify(t, f.bob, f.ann, "Ann", 3)
	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = ids[0]
	}
	many, _ := json.Marshal(map[string]any{"ids": tooMany})
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"neither form", `{}`, 400, "ids"},
		{"both forms", fmt.Sprintf(`{"ids":[%q],"all":true}`, ids[0]), 400, "ids"},
		{"all false", `{"all":false}`, 400, "all"},
		{"empty ids", `{"ids":[]}`, 400, "ids"},
		{"not a uuid", fmt.Sprintf(`{"ids":[%q,"nope"]}`, ids[0]), 400, "ids"},
		{"over 100", string(many), 400, "ids"},
		{"ids not a list", `{"ids":"x"}`, 400, "ids"},
		{"unknown field", `{"every":true}`, 400, "every"},
		{"malformed", `{"all":`, 400, ""},
	}
	for _, c := range cases {
		rec := apptest.Serve(f.h, apptest.Request("POST", "/api/notifications/read", c.body, f.bobKey))
		if rec.Code != c.status {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body)
			continue
		}
		p := apptest.ProblemOf(t, rec)
		if c.field != "" && (len(p.Fields()) == 0 || p.Fields()[0] != c.field) {
			t.Errorf("%s: fields %v, want %s first", c.name, p.Fields(), c.field)
		}
	}
	noCSRF := apptest.Request("POST", "/api/notifications/read", `{"all":true}`, f.bobKey)
	noCSRF.Header.Del("X-Requested-With")
	if rec := apptest.Serve(f.h, noCSRF); rec.Code != http.StatusForbidden {
		t.Errorf("no CSRF header: %d", rec.Code)
	}
	form := apptest.Request("POST", "/api/notifications/read", `{"all":true}`, f.bobKey)
	form.Header.Set("Content-Type", "text/plain")
	if rec := apptest.Serve(f.h, form); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", rec.Code)
	}
	if f.unread(t, f.bob) != 3 {
		t.Fatalf("a refused request marked notifications read")
	}
}
