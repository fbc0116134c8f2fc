package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/people"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

type env struct {
	a    *app.App
	sink *apptest.Sink
	h    http.Handler
}

func setup(t *testing.T) *env {
	t.Helper()
	sink := apptest.NewSink(t)
	a := apptest.New(t, Name, Needs, sink.URL)
	return &env{a: a, sink: sink, h: apptest.Function(t, a, New)}
}

// user is a signed-up person with a live session.
type user = apptest.User

func (e *env) user(t *testing.T, name, email string) user {
	return apptest.NewUser(t, e.a, name, email)
}

func (e *env) do(u user, method, path, body string) *httptest.ResponseRecorder {
	return apptest.Serve(e.h, apptest.Request(method, path, body, u.Cookie))
}

func (e *env) befriend(t *testing.T, a, b user) { apptest.Befriend(t, e.a, a, b) }

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	return v
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
}

// eventsOf waits for the background sends and returns the sink's events of typ.
func (e *env) eventsOf(typ string) []event.Event {
	e.a.Outbox.Wait()
	var out []event.Event
	for _, ev := range e.sink.Events() {
		if ev.Type() == typ {
			out = append(out, ev)
		}
	}
	return out
}

// Search finds people by the start of any word of their name, whatever the
// case ("archer" finds "Ann Archer"), and by a whole email address only: no
// part of an address finds anyone, so addresses cannot be read letter by
// letter.
func TestSearchMatchesNameWordsAndWholeEmailsOnly(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann Archer", "ann@example.com")
	bob := e.user(t, "Bob Stone", "bob@example.com")
	bobby := e.user(t, "bobby", "r.tables@example.com")
	carl := e.user(t, "Carl Bobbins", "carl@example.com")
	e.user(t, "Xena", "BOB.xena@example.com")    // "bob" only in the email: no match
	e.user(t, "Jacob Ward", "jacob@example.com") // "bob" only inside a word: no match
	eve := e.user(t, "Bo", "eve@example.com")
	e.befriend(t, ann, bob)
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO friend_requests (from_user, to_user, status) VALUES ('%s', '%s', 'pending')`, ann.ID, bobby.ID),
		fmt.Sprintf(`INSERT INTO friend_requests (from_user, to_user, status) VALUES ('%s', '%s', 'pending')`, carl.ID, ann.ID),
	} {
		if _, err := e.a.Pool.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	search := func(who user, q string) []people.Card {
		t.Helper()
		rec := e.do(who, "GET", "/api/users?q="+url.QueryEscape(q), "")
		wantStatus(t, rec, 200)
		return decode[struct{ Users []people.Card }](t, rec).Users
	}
	names := func(hits []people.Card) map[string]string {
		rel := map[string]string{}
		for _, u := range hits {
			rel[u.Name] = u.Relation
		}
		return rel
	}
	want := map[string]string{"Bob Stone": "friends", "bobby": "outgoing", "Carl Bobbins": "incoming"}
	if got := names(search(ann, " BOB")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("search bob: %v, want %v", got, want)
	}
	for q, want := range map[string]string{
		"archer":               "map[Ann Archer:friends]",
		"ARCH":                 "map[Ann Archer:friends]",
		"ann arch":             "map[Ann Archer:friends]",
		"archer ann":           "map[Ann Archer:friends]",
		"ann stone":            "map[]",
		"ward":                 "map[Jacob Ward:none]",
		"cob":                  "map[]",
		"ann@":                 "map[]", // part of an address
		"ann@example":          "map[]",
		"example.com":          "map[]",
		"@example.com":         "map[]",
		"nn@example.com":       "map[]",
		"ANN@example.com":      "map[Ann Archer:friends]", // the whole address, any case
		"r.tables@example.com": "map[bobby:none]",
	} {
		if got := fmt.Sprint(names(search(bob, q))); got != want {
			t.Errorf("bob searches %q: %s, want %s", q, got, want)
		}
	}
	// Nobody finds themselves.
	for _, u := range search(bob, "b") {
		if u.ID == bob.ID {
			t.Fatal("search returned the searcher")
		}
	}
	if got := search(bob, "bob@example.com"); len(got) != 0 {
		t.Fatalf("own address: %+v", got)
	}
	// Eve ("Bo") has no relation to Ann.
	got := search(ann, "bo")
	if i := slices.IndexFunc(got, func(h people.Card) bool { return h.ID == eve.ID }); i < 0 || got[i].Relation != "none" {
		t.Fatalf("want Bo with relation none: %+v", got)
	}
}

// Three people named Ann Archer are told apart by what the searcher can
// judge: friends in common and the month they joined; never their email.
func TestSearchTellsNamesakesApart(t *testing.T) {
	e := setup(t)
	me := e.user(t, "Me", "me@example.com")
	bob, cid := e.user(t, "Bob", "bob@example.com"), e.user(t, "Cid", "cid@example.com")
	anns := []user{e.user(t, "Ann Archer", "ann1@example.com"), e.user(t, "Ann Archer", "ann.archer@work.example"), e.user(t, "Ann Archer", "ann3@example.com")}
	e.befriend(t, me, bob)
	e.befriend(t, me, cid)
	e.befriend(t, anns[0], bob)
	e.befriend(t, anns[0], cid)
	e.befriend(t, anns[1], bob)
	e.befriend(t, anns[2], e.user(t, "Dee", "dee@example.com")) // a friend, but not one of mine
	if _, err := e.a.Pool.Exec(context.Background(), `UPDATE users SET created_at = '2025-11-30T23:30:00Z' WHERE id = $1`, anns[2].ID); err != nil {
		t.Fatal(err)
	}
	rec := e.do(me, "GET", "/api/users?q=ann+archer", "")
	wantStatus(t, rec, 200)
	if body := rec.Body.String(); strings.Contains(body, "example") || strings.Contains(body, "@") {
		t.Fatalf("search results carry an email: %s", body)
	}
	hits := decode[struct{ Users []people.Card }](t, rec).Users
	mutual := map[string]int{}
	joined := map[string]string{}
	for _, h := range hits {
		mutual[h.ID], joined[h.ID] = h.MutualFriends, h.Joined
	}
	if len(hits) != 3 || mutual[anns[0].ID] != 2 || mutual[anns[1].ID] != 1 || mutual[anns[2].ID] != 0 {
		t.Fatalf("mutual friends %v in %+v", mutual, hits)
	}
	if joined[anns[2].ID] != "2025-11" || joined[anns[0].ID] != time.Now().UTC().Format("2006-01") {
		t.Fatalf("joined %v", joined)
	}
}

// Searches are limited per account, across all its sessions.
func TestSearchIsRateLimitedPerAccount(t *testing.T) {
	t.Setenv("SEARCHES_PER_MINUTE", "3")
	e := setup(t)
	me := e.user(t, "Me", "me@example.com")
	other := e.user(t, "Other", "other@example.com")
	token, err := e.a.Sessions.Create(context.Background(), me.ID)
	if err != nil {
		t.Fatal(err)
	}
	second := &http.Cookie{Name: session.CookieName, Value: token}
	for i := 0; i < 3; i++ {
		wantStatus(t, e.do(me, "GET", "/api/users?q=ann", ""), 200)
	}
	for _, c := range []*http.Cookie{me.Cookie, second} {
		rec := apptest.Serve(e.h, apptest.Request("GET", "/api/users?q=ann", "", c))
		wantStatus(t, rec, http.StatusTooManyRequests)
		if rec.Header().Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		apptest.ProblemOf(t, rec)
	}
	wantStatus(t, e.do(other, "GET", "/api/users?q=ann", ""), 200)
}

func TestSearchCapsResultsAndTreatsWildcardsLiterally(t *testing.T) {
	e := setup(t)
	me := e.user(t, "Me", "me@example.com")
	for i := range 25 {
		e.user(t, fmt.Sprintf("Zed %02d", i), fmt.Sprintf("zed%d@example.com", i))
	}
	e.user(t, "50% off", "sale@example.com")
	got := decode[struct{ Users []people.Card }](t, e.do(me, "GET", "/api/users?q=zed", "")).Users
	if len(got) != maxSearchHits {
		t.Fatalf("got %d hits, want the cap %d", len(got), maxSearchHits)
	}
	if got[0].Name != "Zed 00" || got[19].Name != "Zed 19" {
		t.Fatalf("hits not ordered by name: first %q last %q", got[0].Name, got[19].Name)
	}
	got = decode[struct{ Users []people.Card }](t, e.do(me, "GET", "/api/users?q=%25", "")).Users
	if len(got) != 0 {
		t.Fatalf("q=%% matched %d users; %% must be literal", len(got))
	}
	got = decode[struct{ Users []people.Card }](t, e.do(me, "GET", "/api/users?q=50%25", "")).Users
	if len(got) != 1 || got[0].Name != "50% off" {
		t.Fatalf("q=50%%: %+v", got)
	}
}

func TestSearchRejectsBadQueries(t *testing.T) {
	e := setup(t)
	me := e.user(t, "Me", "me@example.com")
	for _, q := range []string{"", "?q=", "?q=%20%20", "?q=" + strings.Repeat("a", 81), "?q=a%00b", "?q=%ff"} {
		rec := e.do(me, "GET", "/api/users"+q, "")
		wantStatus(t, rec, 400)
		if p := apptest.ProblemOf(t, rec); !slices.Contains(p.Fields(), "q") {
			t.Errorf("%q: problem does not name q: %+v", q, p)
		}
	}
	wantStatus(t, e.do(me, "GET", "/api/users?q="+strings.Repeat("é", 80), ""), 200)
}

func TestSendRequestStoresItAndEmitsFriendRequested(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	bob := e.user(t, "Bob", "bob@example.com")
	rec := e.do(ann, "POST", "/api/friends/requests", `{"userId":"`+strings.ToUpper(bob.ID)+`"}`)
	wantStatus(t, rec, 201)
	fr := decode[friendRequest](t, rec)
	if fr.ID == "" || fr.From != (person{ann.ID, "Ann"}) || fr.To != (person{bob.ID, "Bob"}) || fr.Status != "pending" {
		t.Fatalf("response %+v", fr)
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friend_requests WHERE id = $1 AND from_user = $2 AND to_user = $3 AND status = 'pending'`, fr.ID, ann.ID, bob.ID); n != 1 {
		t.Fatal("request not stored")
	}
	got := e.eventsOf(events.TypeFriendRequested)
	if len(got) != 1 {
		t.Fatalf("%d friend.requested events, want 1", len(got))
	}
	ev := got[0]
	if ev.Source() != source || ev.Subject() != fr.ID || ev.Extensions()[events.PartitionKeyExtension] != bob.ID {
		t.Fatalf("event envelope: source %s subject %s key %v", ev.Source(), ev.Subject(), ev.Extensions()[events.PartitionKeyExtension])
	}
	p, err := events.Decode[events.FriendRequested](ev)
	if err != nil || p.RequestID != fr.ID || p.FromUserID != ann.ID || p.FromName != "Ann" || p.ToUserID != bob.ID || p.RequestedAt.IsZero() {
		t.Fatalf("payload %+v %v", p, err)
	}

	// Both sides see it in their lists.
	lists := decode[struct{ Incoming, Outgoing []friendRequest }](t, e.do(bob, "GET", "/api/friends/requests", ""))
	if len(lists.Incoming) != 1 || lists.Incoming[0] != fr || len(lists.Outgoing) != 0 {
		t.Fatalf("bob's lists %+v", lists)
	}
	lists = decode[struct{ Incoming, Outgoing []friendRequest }](t, e.do(ann, "GET", "/api/friends/requests", ""))
	if len(lists.Outgoing) != 1 || lists.Outgoing[0] != fr || len(lists.Incoming) != 0 {
		t.Fatalf("ann's lists %+v", lists)
	}
	if body := e.do(bob, "GET", "/api/friends", "").Body.String(); !strings.Contains(body, `"friends":[]`) {
		t.Fatalf("a pending request made friends: %s", body)
	}
}

func TestSendRequestRefusalsWriteNothing(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	bob := e.user(t, "Bob", "bob@example.com")
	cid := e.user(t, "Cid", "cid@example.com")
	e.befriend(t, ann, cid)
	wantStatus(t, e.do(ann, "POST", "/api/friends/requests", `{"userId":"`+bob.ID+`"}`), 201)
	before := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friend_requests`) + apptest.Count(t, e.a.Pool, `SELECT count(*) FROM outbox`)

	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"to yourself", `{"userId":"` + ann.ID + `"}`, 400, "userId"},
		{"unknown user", `{"userId":"00000000-0000-4000-8000-000000000000"}`, 404, ""},
		{"malformed id", `{"userId":"bob"}`, 404, ""},
		{"duplicate", `{"userId":"` + bob.ID + `"}`, 409, "userId"},
		{"already friends", `{"userId":"` + cid.ID + `"}`, 409, "userId"},
		{"missing userId", `{}`, 400, "userId"},
		{"null userId", `{"userId":null}`, 400, "userId"},
		{"wrong type", `{"userId":42}`, 400, "userId"},
		{"unknown field", `{"userId":"` + bob.ID + `","note":"hi"}`, 400, "note"},
		{"malformed json", `{"userId":`, 400, ""},
		{"not an object", `["x"]`, 400, ""},
		{"oversized", `{"userId":"` + strings.Repeat("x", 8<<10) + `"}`, 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(ann, "POST", "/api/friends/requests", c.body)
			wantStatus(t, rec, c.status)
			p := apptest.ProblemOf(t, rec)
			if c.field != "" && !slices.Contains(p.Fields(), c.field) {
				t.Fatalf("problem does not name %s: %+v", c.field, p)
			}
		})
	}
	req := apptest.Request("POST", "/api/friends/requests", `{"userId":"`+bob.ID+`"}`, ann.Cookie)
	req.Header.Set("Content-Type", "text/plain")
	wantStatus(t, apptest.Serve(e.h, req), 415)

	after := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friend_requests`) + apptest.Count(t, e.a.Pool, `SELECT count(*) FROM outbox`)
	if after != before {
		t.Fatalf("refused requests wrote %d rows", after-before)
	}
}

func TestRequestingBackAcceptsAndEmitsFriendAccepted(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	bob := e.user(t, "Bob", "bob@example.com")
	first := decode[friendRequest](t, e.do(ann, "POST", "/api/friends/requests", `{"userId":"`+bob.ID+`"}`))
	rec := e.do(bob, "POST", "/api/friends/requests", `{"userId":"`+ann.ID+`"}`)
	wantStatus(t, rec, 201)
	fr := decode[friendRequest](t, rec)
	if fr.ID != first.ID || fr.Status != "accepted" || fr.From.ID != ann.ID || fr.To.ID != bob.ID {
		t.Fatalf("requesting back: %+v, want Ann's request accepted", fr)
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friendships`); n != 2 {
		t.Fatalf("%d friendship rows, want 2", n)
	}
	acc := e.eventsOf(events.TypeFriendAccepted)
	if len(acc) != 1 || acc[0].Extensions()[events.PartitionKeyExtension] != ann.ID {
		t.Fatalf("friend.accepted events %v", acc)
	}
	p, err := events.Decode[events.FriendAccepted](acc[0])
	if err != nil || p.RequestID != first.ID || p.RequesterID != ann.ID || p.AccepterID != bob.ID || p.AccepterName != "Bob" || p.AcceptedAt.IsZero() {
		t.Fatalf("payload %+v %v", p, err)
	}
	if n := len(e.eventsOf(events.TypeFriendRequested)); n != 1 {
		t.Fatalf("%d friend.requested events, want only Ann's", n)
	}
}

// Two people who request each other at the same moment become friends
// exactly once. Twenty pairs race at once, each pair from both sides, and
// the whole thing runs a few rounds.
func TestConcurrentMutualRequestsBecomeOneFriendship(t *testing.T) {
	e := setup(t)
	const pairs, rounds = 20, 3
	type pair struct{ a, b user }
	for round := range rounds {
		ps := make([]pair, pairs)
		for i := range ps {
			ps[i] = pair{
				e.user(t, fmt.Sprintf("A%d-%d", round, i), fmt.Sprintf("a%d-%d@example.com", round, i)),
				e.user(t, fmt.Sprintf("B%d-%d", round, i), fmt.Sprintf("b%d-%d@example.com", round, i)),
			}
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		codes := make(chan string, 2*pairs)
		for _, p := range ps {
			for _, dir := range [][2]user{{p.a, p.b}, {p.b, p.a}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					rec := e.do(dir[0], "POST", "/api/friends/requests", `{"userId":"`+dir[1].ID+`"}`)
					codes <- fmt.Sprintf("%d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
				}()
			}
		}
		close(start)
		wg.Wait()
		close(codes)
		for c := range codes {
			if !strings.HasPrefix(c, "201 ") {
				t.Fatalf("round %d: a racing request got %s", round, c)
			}
		}
		for _, p := range ps {
			if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friendships WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)`, p.a.ID, p.b.ID); n != 2 {
				t.Fatalf("round %d: %d friendship rows for a pair, want 2", round, n)
			}
			if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friend_requests WHERE from_user IN ($1, $2) AND to_user IN ($1, $2)`, p.a.ID, p.b.ID); n != 1 {
				t.Fatalf("round %d: %d request rows for a pair, want 1", round, n)
			}
			if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friend_requests WHERE status = 'accepted' AND from_user IN ($1, $2) AND to_user IN ($1, $2)`, p.a.ID, p.b.ID); n != 1 {
				t.Fatalf("round %d: %d accepted requests for a pair, want 1", round, n)
			}
		}
	}
	if n := len(e.eventsOf(events.TypeFriendAccepted)); n != pairs*rounds {
		t.Fatalf("%d friend.accepted events, want %d", n, pairs*rounds)
	}
	if n := len(e.eventsOf(events.TypeFriendRequested)); n != pairs*rounds {
		t.Fatalf("%d friend.requested events, want %d", n, pairs*rounds)
	}
}

func TestAcceptDeclineCancelOnlyByTheRightSide(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	bob := e.user(t, "Bob", "bob@example.com")
	cid := e.user(t, "Cid", "cid@example.com")
	send := func(from, to user) friendRequest {
		t.Helper()
		rec := e.do(from, "POST", "/api/friends/requests", `{"userId":"`+to.ID+`"}`)
		wantStatus(t, rec, 201)
		return decode[friendRequest](t, rec)
	}
	r1 := send(ann, bob)
	path := "/api/friends/requests/" + r1.ID
	for _, c := range []struct {
		who          user
		method, path string
	}{
		{ann, "POST", path + "/accept"}, // the sender cannot accept
		{cid, "POST", path + "/accept"},
		{ann, "POST", path + "/decline"},
		{cid, "POST", path + "/decline"},
		{bob, "DELETE", path}, // the recipient cannot cancel
		{cid, "DELETE", path},
		{bob, "POST", "/api/friends/requests/not-an-id/accept"},
		{bob, "POST", "/api/friends/requests/00000000-0000-4000-8000-000000000000/accept"},
		{ann, "DELETE", "/api/friends/requests/00000000-0000-4000-8000-000000000000"},
	} {
		rec := e.do(c.who, c.method, c.path, "")
		wantStatus(t, rec, 404)
		apptest.ProblemOf(t, rec)
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friend_requests WHERE status = 'pending'`); n != 1 {
		t.Fatal("a refused action changed the request")
	}

	rec := e.do(bob, "POST", path+"/accept", "")
	wantStatus(t, rec, 200)
	if got := decode[friendRequest](t, rec); got.Status != "accepted" || got.ID != r1.ID || got.From.ID != ann.ID || got.To.Name != "Bob" {
		t.Fatalf("accept answered %+v", got)
	}
	wantStatus(t, e.do(bob, "POST", path+"/accept", ""), 404) // not pending any more
	wantStatus(t, e.do(ann, "DELETE", path, ""), 404)
	acc := e.eventsOf(events.TypeFriendAccepted)
	if len(acc) != 1 || acc[0].Extensions()[events.PartitionKeyExtension] != ann.ID || acc[0].Subject() != r1.ID {
		t.Fatalf("friend.accepted %v", acc)
	}

	// Decline: only the recipient, once, and no friendship.
	r2 := send(cid, bob)
	wantStatus(t, e.do(bob, "POST", "/api/friends/requests/"+r2.ID+"/decline", ""), 204)
	wantStatus(t, e.do(bob, "POST", "/api/friends/requests/"+r2.ID+"/accept", ""), 404)
	// Cancel: only the sender.
	r3 := send(cid, ann)
	wantStatus(t, e.do(cid, "DELETE", "/api/friends/requests/"+r3.ID, ""), 204)
	wantStatus(t, e.do(ann, "POST", "/api/friends/requests/"+r3.ID+"/accept", ""), 404)

	statuses := map[string]string{}
	rows, _ := e.a.Pool.Query(context.Background(), `SELECT id::text, status FROM friend_requests`)
	for rows.Next() {
		var id, s string
		_ = rows.Scan(&id, &s)
		statuses[id] = s
	}
	if statuses[r1.ID] != "accepted" || statuses[r2.ID] != "declined" || statuses[r3.ID] != "cancelled" {
		t.Fatalf("statuses %v", statuses)
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friendships WHERE user_id = $1 OR friend_id = $1`, cid.ID); n != 0 {
		t.Fatal("a declined or cancelled request made friends")
	}
	if n := len(e.eventsOf(events.TypeFriendAccepted)); n != 1 {
		t.Fatalf("%d friend.accepted events, want 1", n)
	}
	// The cancel, and only it, is told to the recipient's partition, so
	// notify can take back "Cid sent you a friend request".
	cancelled := e.eventsOf(events.TypeFriendCancelled)
	if len(cancelled) != 1 || cancelled[0].Subject() != r3.ID || cancelled[0].Extensions()[events.PartitionKeyExtension] != ann.ID {
		t.Fatalf("friend.cancelled %v", cancelled)
	}
	if p, err := events.Decode[events.FriendCancelled](cancelled[0]); err != nil || p.RequestID != r3.ID || p.FromUserID != cid.ID || p.ToUserID != ann.ID || p.CancelledAt.IsZero() {
		t.Fatalf("friend.cancelled payload %+v %v", p, err)
	}
	// After a decline or a cancel, the same requester must wait before
	// asking the same person again; the one who declined may ask at once.
	for _, c := range [][2]user{{cid, bob}, {cid, ann}} {
		rec := e.do(c[0], "POST", "/api/friends/requests", `{"userId":"`+c[1].ID+`"}`)
		wantStatus(t, rec, http.StatusTooManyRequests)
		if s := rec.Header().Get("Retry-After"); s == "" || s == "0" {
			t.Fatalf("Retry-After %q", s)
		}
		apptest.ProblemOf(t, rec)
	}
	send(bob, cid)
}

func TestFriendsListAndUnfriend(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	bob := e.user(t, "bob", "bob@example.com")
	cid := e.user(t, "Cid", "cid@example.com")
	dan := e.user(t, "Dan", "dan@example.com")
	e.befriend(t, ann, cid)
	e.befriend(t, ann, bob)
	e.befriend(t, bob, dan)
	got := decode[struct{ Friends []person }](t, e.do(ann, "GET", "/api/friends", "")).Friends
	if fmt.Sprint(got) != fmt.Sprint([]person{{bob.ID, "bob"}, {cid.ID, "Cid"}}) {
		t.Fatalf("ann's friends %v", got)
	}

	wantStatus(t, e.do(ann, "DELETE", "/api/friends/"+bob.ID, ""), 204)
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friendships WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)`, ann.ID, bob.ID); n != 0 {
		t.Fatalf("%d friendship rows left after unfriending", n)
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friendships`); n != 4 {
		t.Fatalf("unfriending touched other friendships: %d rows left, want 4", n)
	}
	got = decode[struct{ Friends []person }](t, e.do(bob, "GET", "/api/friends", "")).Friends
	if len(got) != 1 || got[0].ID != dan.ID {
		t.Fatalf("bob's friends after unfriend %v", got)
	}
	for _, path := range []string{"/api/friends/" + bob.ID, "/api/friends/" + dan.ID, "/api/friends/" + ann.ID, "/api/friends/nope"} {
		rec := e.do(ann, "DELETE", path, "")
		wantStatus(t, rec, 404)
		apptest.ProblemOf(t, rec)
	}
	// Unfriended people can ask again.
	wantStatus(t, e.do(bob, "POST", "/api/friends/requests", `{"userId":"`+ann.ID+`"}`), 201)
}

func TestEveryEndpointNeedsASessionAndUnsafeOnesTheCSRFHeader(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	bob := e.user(t, "Bob", "bob@example.com")
	id := "00000000-0000-4000-8000-000000000000"
	routes := []struct{ method, path, body string }{
		{"GET", "/api/users?q=b", ""},
		{"POST", "/api/friends/requests", `{"userId":"` + bob.ID + `"}`},
		{"GET", "/api/friends/requests", ""},
		{"POST", "/api/friends/requests/" + id + "/accept", ""},
		{"POST", "/api/friends/requests/" + id + "/decline", ""},
		{"DELETE", "/api/friends/requests/" + id, ""},
		{"GET", "/api/friends", ""},
		{"DELETE", "/api/friends/" + bob.ID, ""},
	}
	for _, r := range routes {
		rec := apptest.Serve(e.h, apptest.Request(r.method, r.path, r.body))
		if rec.Code != 401 {
			t.Errorf("%s %s without a session: %d", r.method, r.path, rec.Code)
		}
		apptest.ProblemOf(t, rec)
		bad := apptest.Request(r.method, r.path, r.body, &http.Cookie{Name: session.CookieName, Value: "forged"})
		if rec := apptest.Serve(e.h, bad); rec.Code != 401 {
			t.Errorf("%s %s with a forged session: %d", r.method, r.path, rec.Code)
		}
		if r.method != "GET" {
			req := apptest.Request(r.method, r.path, r.body, ann.Cookie)
			req.Header.Del("X-Requested-With")
			rec := apptest.Serve(e.h, req)
			if rec.Code != 403 {
				t.Errorf("%s %s without the CSRF header: %d", r.method, r.path, rec.Code)
			}
		}
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friend_requests`); n != 0 {
		t.Fatal("an unauthenticated or cross-site request wrote a friend request")
	}
}

func TestSendRequestSucceedsWhileTheSinkIsDown(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	bob := e.user(t, "Bob", "bob@example.com")
	e.sink.Down.Store(true)
	wantStatus(t, e.do(ann, "POST", "/api/friends/requests", `{"userId":"`+bob.ID+`"}`), 201)
	e.a.Outbox.Wait()
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND event_type = $1`, events.TypeFriendRequested); n != 1 {
		t.Fatalf("want the event kept in the outbox for the relay, got %d unsent rows", n)
	}
}

// Request and cancel twenty times: one request, one friend.requested (so
// one live notification), and every repeat within the cool-down is a 429.
func TestRequestCancelLoopNotifiesOnce(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	bob := e.user(t, "Bob", "bob@example.com")
	codes := map[int]int{}
	for i := 0; i < 20; i++ {
		rec := e.do(ann, "POST", "/api/friends/requests", `{"userId":"`+bob.ID+`"}`)
		codes[rec.Code]++
		if rec.Code == http.StatusCreated {
			wantStatus(t, e.do(ann, "DELETE", "/api/friends/requests/"+decode[friendRequest](t, rec).ID, ""), 204)
		}
	}
	e.a.Outbox.Wait()
	if n := len(e.eventsOf(events.TypeFriendRequested)); n != 1 || codes[201] != 1 || codes[429] != 19 {
		t.Fatalf("statuses %v, %d friend.requested events; want one request and 19 × 429", codes, n)
	}
}

// Requests are limited per account per hour, whoever they go to.
func TestFriendRequestsAreRateLimitedPerAccount(t *testing.T) {
	t.Setenv("FRIEND_REQUESTS_PER_HOUR", "3")
	e := setup(t)
	ann := e.user(t, "Ann", "ann@example.com")
	for i := 0; i < 4; i++ {
		other := e.user(t, fmt.Sprint("U", i), fmt.Sprintf("u%d@example.com", i))
		rec := e.do(ann, "POST", "/api/friends/requests", `{"userId":"`+other.ID+`"}`)
		if i < 3 {
			wantStatus(t, rec, 201)
			continue
		}
		wantStatus(t, rec, http.StatusTooManyRequests)
		if rec.Header().Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		apptest.ProblemOf(t, rec)
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM friend_requests`); n != 3 {
		t.Fatalf("%d requests stored, want 3", n)
	}
}
