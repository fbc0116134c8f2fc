package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/people"
	"github.com/tidings-dev/tidings/functions/post/feed"
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

func (e *env) user(t *testing.T, name string) user {
	return apptest.NewUser(t, e.a, name, strings.ToLower(name)+"@example.com")
}

func (e *env) befriend(t *testing.T, a, b user) { apptest.Befriend(t, e.a, a, b) }

func (e *env) file(t *testing.T, owner user) string {
	t.Helper()
	var id string
	if err := e.a.Pool.QueryRow(context.Background(), `INSERT INTO files (owner_id, object_key, content_type, size) VALUES ($1, gen_random_uuid()::text, 'image/png', 1) RETURNING id::text`, owner.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// seedPost writes a post straight to the table, at a chosen time.
func (e *env) seedPost(t *testing.T, author user, text string, at time.Time) string {
	t.Helper()
	var id string
	if err := e.a.Pool.QueryRow(context.Background(), `INSERT INTO posts (author_id, text, created_at) VALUES ($1, $2, $3) RETURNING id::text`, author.ID, text, at).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) do(u user, method, path, body string) *httptest.ResponseRecorder {
	return apptest.Serve(e.h, apptest.Request(method, path, body, u.Cookie))
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
}

func decodePage(t *testing.T, rec *httptest.ResponseRecorder) pageResponse {
	t.Helper()
	wantStatus(t, rec, 200)
	var p pageResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// authorPage is GET /api/users/{id}/posts: a page of posts and whose they are.
type authorPage struct {
	User feed.Person `json:"user"`
	pageResponse
}

func decodeAuthorPage(t *testing.T, rec *httptest.ResponseRecorder) authorPage {
	t.Helper()
	wantStatus(t, rec, 200)
	var p authorPage
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll pages through path with limit and returns the post ids in order.
func (e *env) readAll(t *testing.T, u user, path string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 1000 {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		p := decodePage(t, e.do(u, "GET", path+"?"+q.Encode(), ""))
		if len(p.Posts) > limit {
			t.Fatalf("page of %d posts with limit %d", len(p.Posts), limit)
		}
		for _, post := range p.Posts {
			ids = append(ids, post.ID)
		}
		if p.NextCursor == nil {
			return ids
		}
		if len(p.Posts) == 0 {
			t.Fatal("an empty page with a next cursor")
		}
		cursor = *p.NextCursor
	}
	t.Fatal("paging never ended")
	return nil
}

func TestCreatePostEmitsPostCreated(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann")
	fileID := e.file(t, ann)

	rec := e.do(ann, "POST", "/api/posts", `{"text":"  hello\nworld  "}`)
	wantStatus(t, rec, 201)
	var plain feed.Post
	json.Unmarshal(rec.Body.Bytes(), &plain)
	if plain.ID == "" || plain.Author != (feed.Person{ID: ann.ID, Name: "Ann"}) || plain.Text != "hello\nworld" || plain.Image != nil || plain.CreatedAt.IsZero() {
		t.Fatalf("response %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), `"image"`) {
		t.Fatalf("a post without a picture has an image key: %s", rec.Body)
	}

	rec = e.do(ann, "POST", "/api/posts", `{"text":"with a picture","fileId":"`+strings.ToUpper(fileID)+`"}`)
	wantStatus(t, rec, 201)
	var pic feed.Post
	json.Unmarshal(rec.Body.Bytes(), &pic)
	if pic.Image == nil || pic.Image.Src != "/api/files/"+fileID {
		t.Fatalf("picture post %s", rec.Body)
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM posts WHERE id = $1 AND file_id = $2 AND author_id = $3`, pic.ID, fileID, ann.ID); n != 1 {
		t.Fatal("picture post not stored with its file")
	}

	// A picture alone is a post: no text key needed, and blank text is empty.
	for _, body := range []string{`{"fileId":"` + e.file(t, ann) + `"}`, `{"text":" \n ","fileId":"` + e.file(t, ann) + `"}`} {
		rec = e.do(ann, "POST", "/api/posts", body)
		wantStatus(t, rec, 201)
		var only feed.Post
		json.Unmarshal(rec.Body.Bytes(), &only)
		if only.Text != "" || only.Image == nil || !strings.Contains(rec.Body.String(), `"text":""`) {
			t.Fatalf("picture-only post %s", rec.Body)
		}
	}

	e.a.Outbox.Wait()
	got := e.sink.Events()
	if len(got) != 4 {
		t.Fatalf("%d events, want 4", len(got))
	}
	// Each post's event is sent after its own commit; the sends may arrive
	// in any order.
	bySubject := map[string]int{}
	for i, ev := range got {
		bySubject[ev.Subject()] = i
	}
	for i, want := range []feed.Post{plain, pic} {
		ev := got[bySubject[want.ID]]
		if ev.Type() != events.TypePostCreated || ev.Source() != source || ev.Subject() != want.ID || ev.Extensions()[events.PartitionKeyExtension] != ann.ID {
			t.Fatalf("event %d envelope: %s", i, ev)
		}
		p, err := events.Decode[events.PostCreated](ev)
		if err != nil || p.PostID != want.ID || p.AuthorID != ann.ID || p.AuthorName != "Ann" || p.HasImage != (want.Image != nil) || !p.CreatedAt.Equal(want.CreatedAt) {
			t.Fatalf("event %d payload %+v %v", i, p, err)
		}
	}
}

func TestCreatePostRejectsBadInputAndWritesNothing(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann")
	bob := e.user(t, "Bob")
	e.befriend(t, ann, bob)
	bobsFile := e.file(t, bob)
	cases := []struct {
		name, body string
		status     int
		fields     []string
	}{
		{"missing text", `{}`, 400, []string{"text"}},
		{"blank text", `{"text":" \n\t "}`, 400, []string{"text"}},
		{"too long", `{"text":"` + strings.Repeat("é", maxTextLen+1) + `"}`, 400, []string{"text"}},
		{"control character", `{"text":"a\u0000b"}`, 400, []string{"text"}},
		{"not UTF-8", "{\"text\":\"caf\xe9\"}", 400, []string{"text"}},
		{"lone surrogate", `{"text":"a\ud800b"}`, 400, []string{"text"}},
		{"text wrong type", `{"text":42}`, 400, []string{"text"}},
		{"fileId wrong type", `{"text":"hi","fileId":7}`, 400, []string{"fileId"}},
		{"fileId not an id", `{"text":"hi","fileId":"cat.png"}`, 400, []string{"fileId"}},
		{"fileId empty", `{"text":"hi","fileId":""}`, 400, []string{"fileId"}},
		{"fileId unknown", `{"text":"hi","fileId":"00000000-0000-4000-8000-000000000000"}`, 400, []string{"fileId"}},
		{"fileId a friend's", `{"text":"hi","fileId":"` + bobsFile + `"}`, 400, []string{"fileId"}},
		{"neither text nor picture", `{"text":"","fileId":null}`, 400, []string{"text"}},
		{"a picture that is not an id, no text", `{"text":"","fileId":"x"}`, 400, []string{"fileId"}},
		{"both bad", `{"text":"a\u0000","fileId":"x"}`, 400, []string{"text", "fileId"}},
		{"unknown field", `{"text":"hi","author":"` + bob.ID + `"}`, 400, []string{"author"}},
		{"malformed json", `{"text":"hi"`, 400, nil},
		{"not an object", `"hi"`, 400, nil},
		{"empty body", ``, 400, nil},
		{"oversized", `{"text":"` + strings.Repeat("a", 40<<10) + `"}`, 413, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(ann, "POST", "/api/posts", c.body)
			wantStatus(t, rec, c.status)
			p := apptest.ProblemOf(t, rec)
			for _, f := range c.fields {
				if !slices.Contains(p.Fields(), f) {
					t.Fatalf("problem does not name %s: %+v", f, p)
				}
			}
		})
	}
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM posts`) + apptest.Count(t, e.a.Pool, `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("bad input wrote %d rows", n)
	}
	// The longest allowed post, in multi-byte characters, fits.
	wantStatus(t, e.do(ann, "POST", "/api/posts", `{"text":"`+strings.Repeat("é", maxTextLen)+`","fileId":null}`), 201)
}

func TestFeedHoldsOwnAndFriendsPostsNewestFirst(t *testing.T) {
	e := setup(t)
	ann, bob, cid, dan := e.user(t, "Ann"), e.user(t, "Bob"), e.user(t, "Cid"), e.user(t, "Dan")
	e.befriend(t, ann, bob)
	e.befriend(t, bob, cid) // a friend of a friend: not in Ann's feed
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	a1 := e.seedPost(t, ann, "ann 1", base)
	b1 := e.seedPost(t, bob, "bob 1", base.Add(time.Minute))
	e.seedPost(t, cid, "cid 1", base.Add(2*time.Minute))
	e.seedPost(t, dan, "dan 1", base.Add(3*time.Minute))
	rec := e.do(bob, "POST", "/api/posts", `{"text":"bob 2","fileId":"`+e.file(t, bob)+`"}`)
	wantStatus(t, rec, 201)
	var b2 feed.Post
	json.Unmarshal(rec.Body.Bytes(), &b2)

	p := decodePage(t, e.do(ann, "GET", "/api/posts", ""))
	var ids []string
	for _, post := range p.Posts {
		ids = append(ids, post.ID)
	}
	if !slices.Equal(ids, []string{b2.ID, b1, a1}) || p.NextCursor != nil {
		t.Fatalf("ann's feed %v (next %v), want [bob 2, bob 1, ann 1]", ids, p.NextCursor)
	}
	if got := p.Posts[0]; got.Author != (feed.Person{ID: bob.ID, Name: "Bob"}) || got.Image == nil || got.Image.Src != b2.Image.Src || got.Text != "bob 2" {
		t.Fatalf("first post %+v", got)
	}
	body := e.do(ann, "GET", "/api/posts", "").Body.String()
	if !strings.Contains(body, `"nextCursor":null`) {
		t.Fatal("the last page must say nextCursor null")
	}
	if strings.Contains(body, `"user"`) {
		t.Fatalf("the feed names no one user: %s", body)
	}
	// Dan has no friends: only his own post.
	p = decodePage(t, e.do(dan, "GET", "/api/posts", ""))
	if len(p.Posts) != 1 || p.Posts[0].Author.ID != dan.ID {
		t.Fatalf("dan's feed %+v", p.Posts)
	}
	// A new user sees an empty list, not null.
	if body := e.do(e.user(t, "Eve"), "GET", "/api/posts", "").Body.String(); !strings.Contains(body, `"posts":[]`) {
		t.Fatalf("empty feed %s", body)
	}
}

// Paging must neither skip nor repeat posts, even when many share one
// timestamp (posts written in one transaction do).
func TestFeedPagingIsStableWhenPostsShareATimestamp(t *testing.T) {
	e := setup(t)
	ann, bob, cid := e.user(t, "Ann"), e.user(t, "Bob"), e.user(t, "Cid")
	e.befriend(t, ann, bob)
	e.befriend(t, ann, cid)
	same := time.Date(2026, 2, 2, 8, 0, 0, 123456000, time.UTC)
	type row struct {
		id string
		at time.Time
	}
	var all []row
	for i := range 45 {
		at := same
		if i%5 == 0 {
			at = same.Add(-time.Duration(i) * time.Microsecond)
		}
		author := []user{ann, bob, cid}[i%3]
		all = append(all, row{e.seedPost(t, author, fmt.Sprint("post ", i), at), at})
	}
	slices.SortFunc(all, func(a, b row) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	var want []string
	for _, r := range all {
		want = append(want, r.id)
	}
	for _, limit := range []int{1, 7, 20, 100} {
		if got := e.readAll(t, ann, "/api/posts", limit); !slices.Equal(got, want) {
			t.Fatalf("limit %d: paged feed differs from the full order:\n got %v\nwant %v", limit, got, want)
		}
	}
	// A post added while paging lands on top and does not disturb later pages.
	first := decodePage(t, e.do(ann, "GET", "/api/posts?limit=10", ""))
	e.seedPost(t, bob, "late", same.Add(time.Hour))
	second := decodePage(t, e.do(ann, "GET", "/api/posts?limit=10&cursor="+url.QueryEscape(*first.NextCursor), ""))
	if second.Posts[0].ID != want[10] {
		t.Fatalf("second page starts at %s, want %s", second.Posts[0].ID, want[10])
	}
}

func TestFeedRejectsBadPaging(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann")
	for _, c := range []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"limit=x", "limit"},
		{"cursor=garbage", "cursor"},
		{"cursor=" + url.QueryEscape("MjAyNi0wMS0wMVQwMDowMDowMFp8bm9wZQ"), "cursor"},
	} {
		for _, path := range []string{"/api/posts", "/api/users/" + ann.ID + "/posts"} {
			rec := e.do(ann, "GET", path+"?"+c.query, "")
			wantStatus(t, rec, 400)
			if p := apptest.ProblemOf(t, rec); !slices.Contains(p.Fields(), c.field) {
				t.Fatalf("%s?%s: problem does not name %s: %+v", path, c.query, c.field, p)
			}
		}
	}
}

func TestUserPostsForSelfAndFriendsOnly(t *testing.T) {
	e := setup(t)
	ann, bob, cid := e.user(t, "Ann"), e.user(t, "Bob"), e.user(t, "Cid")
	e.befriend(t, ann, bob)
	base := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	var annPosts []string
	for i := range 5 {
		annPosts = append([]string{e.seedPost(t, ann, fmt.Sprint("ann ", i), base.Add(time.Duration(i)*time.Second))}, annPosts...)
	}
	e.seedPost(t, bob, "bob's own", base)
	path := "/api/users/" + ann.ID + "/posts"
	for _, u := range []user{ann, bob} {
		if got := e.readAll(t, u, path, 2); !slices.Equal(got, annPosts) {
			t.Fatalf("%s reading ann's posts: %v, want %v", u.Name, got, annPosts)
		}
	}
	// Every page names whose posts they are, for Ann herself and her friend,
	// and also when there are no posts.
	for _, c := range []struct {
		who      user
		path     string
		whose    user
		numPosts int
	}{
		{ann, path + "?limit=2", ann, 2},
		{bob, path + "?limit=2&cursor=" + url.QueryEscape(*decodeAuthorPage(t, e.do(bob, "GET", path+"?limit=2", "")).NextCursor), ann, 2},
		{ann, "/api/users/" + bob.ID + "/posts?limit=2", bob, 1},
		{cid, "/api/users/" + strings.ToUpper(cid.ID) + "/posts?limit=2", cid, 0},
	} {
		p := decodeAuthorPage(t, e.do(c.who, "GET", c.path, ""))
		if p.User != (feed.Person{ID: c.whose.ID, Name: c.whose.Name}) || len(p.Posts) != c.numPosts {
			t.Fatalf("%s reading %s: user %+v with %d posts, want %s with %d", c.who.Name, c.path, p.User, len(p.Posts), c.whose.Name, c.numPosts)
		}
	}
	for _, c := range []struct {
		who  user
		path string
	}{
		{cid, path}, // a stranger
		{ann, "/api/users/" + cid.ID + "/posts"},
		{ann, "/api/users/00000000-0000-4000-8000-000000000000/posts"},
		{ann, "/api/users/ann/posts"},
	} {
		rec := e.do(c.who, "GET", c.path, "")
		wantStatus(t, rec, 404)
		p := apptest.ProblemOf(t, rec)
		if body := rec.Body.String(); strings.Contains(body, "ann ") || strings.Contains(body, `"user"`) || strings.Contains(body, "Ann") || strings.Contains(body, "Cid") {
			t.Fatalf("404 leaks posts or the person: %+v %s", p, body)
		}
	}
	// A stranger and an unknown id get the very same answer.
	stranger := e.do(cid, "GET", path, "").Body.String()
	unknown := e.do(cid, "GET", "/api/users/00000000-0000-4000-8000-000000000000/posts", "").Body.String()
	if stranger != unknown {
		t.Fatalf("a stranger's 404 differs from an unknown id's:\n%s\n%s", stranger, unknown)
	}
}

func TestOnePostForItsAuthorAndFriendsOnly(t *testing.T) {
	e := setup(t)
	ann, bob, cid := e.user(t, "Ann"), e.user(t, "Bob"), e.user(t, "Cid")
	e.befriend(t, ann, bob)
	rec := e.do(ann, "POST", "/api/posts", `{"text":"just one","fileId":"`+e.file(t, ann)+`"}`)
	wantStatus(t, rec, 201)
	var want feed.Post
	json.Unmarshal(rec.Body.Bytes(), &want)
	for _, u := range []user{ann, bob} {
		for _, id := range []string{want.ID, strings.ToUpper(want.ID)} {
			rec := e.do(u, "GET", "/api/posts/"+id, "")
			wantStatus(t, rec, 200)
			var got feed.Post
			json.Unmarshal(rec.Body.Bytes(), &got)
			if got.ID != want.ID || got.Author != want.Author || got.Text != "just one" || got.Image == nil || *got.Image != *want.Image || !got.CreatedAt.Equal(want.CreatedAt) {
				t.Fatalf("%s reading the post: %s, want %+v", u.Name, rec.Body, want)
			}
		}
	}
	// A stranger, an unknown id and a malformed id get the very same 404.
	var answers []string
	for _, c := range []struct {
		who  user
		path string
	}{
		{cid, "/api/posts/" + want.ID},
		{cid, "/api/posts/00000000-0000-4000-8000-000000000000"},
		{cid, "/api/posts/not-a-post"},
	} {
		rec := e.do(c.who, "GET", c.path, "")
		wantStatus(t, rec, 404)
		apptest.ProblemOf(t, rec)
		answers = append(answers, rec.Body.String())
	}
	if answers[0] != answers[1] || answers[1] != answers[2] {
		t.Fatalf("a stranger's 404 differs from an unknown id's: %q", answers)
	}
	if strings.Contains(answers[0], "just one") || strings.Contains(answers[0], "Ann") {
		t.Fatalf("the 404 leaks the post: %s", answers[0])
	}
	// Unfriended, Bob no longer sees it.
	if _, err := e.a.Pool.Exec(context.Background(), `DELETE FROM friendships`); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.do(bob, "GET", "/api/posts/"+want.ID, ""), 404)
}

// A stranger's profile names them and how they stand to the viewer, and
// nothing else: no posts, no email.
func TestAnyonesCardButNotTheirPosts(t *testing.T) {
	e := setup(t)
	ann, bob, cid := e.user(t, "Ann"), e.user(t, "Bob"), e.user(t, "Cid")
	e.befriend(t, ann, bob)
	e.befriend(t, cid, bob)
	e.seedPost(t, ann, "ann's secret", time.Now())
	rec := e.do(cid, "GET", "/api/users/"+strings.ToUpper(ann.ID), "")
	wantStatus(t, rec, 200)
	var card people.Card
	json.Unmarshal(rec.Body.Bytes(), &card)
	if card != (people.Card{ID: ann.ID, Name: "Ann", Relation: "none", MutualFriends: 1, Joined: time.Now().UTC().Format("2006-01")}) {
		t.Fatalf("card %s", rec.Body)
	}
	if body := rec.Body.String(); strings.Contains(body, "secret") || strings.Contains(body, "@") {
		t.Fatalf("the card leaks: %s", body)
	}
	wantStatus(t, e.do(cid, "GET", "/api/users/"+ann.ID+"/posts", ""), 404)
	json.Unmarshal(e.do(bob, "GET", "/api/users/"+ann.ID, "").Body.Bytes(), &card)
	if card.Relation != "friends" {
		t.Fatalf("a friend's card: %+v", card)
	}
	for _, id := range []string{"00000000-0000-4000-8000-000000000000", "ann"} {
		rec := e.do(cid, "GET", "/api/users/"+id, "")
		wantStatus(t, rec, 404)
		apptest.ProblemOf(t, rec)
	}
}

func TestSessionAndCSRFRequired(t *testing.T) {
	e := setup(t)
	ann := e.user(t, "Ann")
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/posts", `{"text":"hi"}`},
		{"GET", "/api/posts", ""},
		{"GET", "/api/users/" + ann.ID + "/posts", ""},
		{"GET", "/api/posts/00000000-0000-4000-8000-000000000000", ""},
		{"GET", "/api/users/" + ann.ID, ""},
	} {
		rec := apptest.Serve(e.h, apptest.Request(r.method, r.path, r.body))
		wantStatus(t, rec, 401)
		apptest.ProblemOf(t, rec)
	}
	req := apptest.Request("POST", "/api/posts", `{"text":"hi"}`, ann.Cookie)
	req.Header.Del("X-Requested-With")
	wantStatus(t, apptest.Serve(e.h, req), 403)
	req = apptest.Request("POST", "/api/posts", `{"text":"hi"}`, ann.Cookie)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, apptest.Serve(e.h, req), 403)
	if n := apptest.Count(t, e.a.Pool, `SELECT count(*) FROM posts`); n != 0 {
		t.Fatal("a refused request created a post")
	}
}
