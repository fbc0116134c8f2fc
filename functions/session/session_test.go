package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/password"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

// ann is the seeded user's email, unique per test: the failure counters live
// in the shared test Redis.
var ann string

func setup(t *testing.T) (*app.App, http.Handler) {
	return setupFor(t, "")
}

// setupFor is setup for a site at publicURL ("" for the local default).
func setupFor(t *testing.T, publicURL string) (*app.App, http.Handler) {
	a := apptest.NewWith(t, Name, Needs, app.Settings{PublicURL: publicURL})
	ann = fmt.Sprintf("ann-%d@example.com", time.Now().UnixNano())
	hash, err := password.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Pool.Exec(context.Background(), `INSERT INTO users (email, name, password_hash) VALUES ($1, 'Ann', $2)`, ann, hash); err != nil {
		t.Fatal(err)
	}
	return a, apptest.Function(t, a, New)
}

func login(h http.Handler, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	return apptest.Serve(h, apptest.Request("POST", "/api/login", body, cookies...))
}

func TestLoginMeLogout(t *testing.T) {
	a, h := setup(t)
	rec := login(h, `{"email":"`+strings.ToUpper(ann)+`","password":"correct horse"}`)
	if rec.Code != 200 {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	first := apptest.Cookie(rec, session.CookieName)
	if first == nil || !first.HttpOnly {
		t.Fatal("no HttpOnly session cookie")
	}
	me := apptest.Serve(h, apptest.Request("GET", "/api/me", "", first))
	var u session.User
	if me.Code != 200 || json.Unmarshal(me.Body.Bytes(), &u) != nil || u.Email != ann || u.Name != "Ann" || u.ID == "" {
		t.Fatalf("me: %d %s", me.Code, me.Body)
	}

	// Logging in again issues a new token and kills the old one.
	second := apptest.Cookie(login(h, `{"email":"`+ann+`","password":"correct horse"}`, first), session.CookieName)
	if second == nil || second.Value == first.Value {
		t.Fatal("login did not rotate the session token")
	}
	if rec := apptest.Serve(h, apptest.Request("GET", "/api/me", "", first)); rec.Code != 401 {
		t.Fatalf("the old token still works: %d", rec.Code)
	}

	out := apptest.Serve(h, apptest.Request("POST", "/api/logout", "", second))
	if out.Code != http.StatusNoContent {
		t.Fatalf("logout: %d", out.Code)
	}
	if c := apptest.Cookie(out, session.CookieName); c == nil || c.MaxAge >= 0 {
		t.Fatal("logout did not clear the cookie")
	}
	if ok, err := a.Sessions.Exists(context.Background(), second.Value); err != nil || ok {
		t.Fatalf("session still in Redis after logout (%v)", err)
	}
	if rec := apptest.Serve(h, apptest.Request("GET", "/api/me", "", second)); rec.Code != 401 {
		t.Fatalf("me after logout: %d", rec.Code)
	}
}

func TestMeWithoutSessionIs401(t *testing.T) {
	_, h := setup(t)
	for _, c := range []*http.Cookie{nil, {Name: session.CookieName, Value: "forged"}} {
		req := apptest.Request("GET", "/api/me", "")
		if c != nil {
			req.AddCookie(c)
		}
		rec := apptest.Serve(h, req)
		if rec.Code != 401 {
			t.Fatalf("cookie %v: status %d", c, rec.Code)
		}
		apptest.ProblemOf(t, rec)
	}
}

func TestWrongPasswordAndUnknownEmailLookTheSame(t *testing.T) {
	_, h := setup(t)
	wrong := login(h, `{"email":"`+ann+`","password":"wrong password"}`)
	unknown := login(h, `{"email":"nobody@example.com","password":"wrong password"}`)
	if wrong.Code != 401 || unknown.Code != 401 {
		t.Fatalf("statuses %d and %d, want 401", wrong.Code, unknown.Code)
	}
	if wrong.Body.String() != unknown.Body.String() {
		t.Fatalf("responses differ:\n%s\n%s", wrong.Body, unknown.Body)
	}
	if apptest.Cookie(wrong, session.CookieName) != nil {
		t.Fatal("a failed login set a cookie")
	}
}

func TestRepeatedFailuresAreRateLimitedPerAccount(t *testing.T) {
	_, h := setup(t)
	for i := 0; i < 5; i++ {
		if rec := login(h, `{"email":"`+ann+`","password":"guess"}`); rec.Code != 401 {
			t.Fatalf("attempt %d: %d", i+1, rec.Code)
		}
	}
	rec := login(h, `{"email":"`+strings.ToUpper(ann)+`","password":"correct horse"}`)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	apptest.ProblemOf(t, rec)
	// Another account is not affected.
	if rec := login(h, `{"email":"other-`+ann+`","password":"guess"}`); rec.Code != 401 {
		t.Fatalf("other account: %d", rec.Code)
	}
}

func TestLoginRejectsBadBodies(t *testing.T) {
	_, h := setup(t)
	for body, want := range map[string]int{
		`{"email":`:                  400,
		`{}`:                         400,
		`{"email":"a@example.com"}`:  400,
		`{"email":1,"password":"x"}`: 400,
		`{"email":"a","password":"` + strings.Repeat("x", 20<<10) + `"}`: 413,
	} {
		rec := login(h, body)
		if rec.Code != want {
			t.Errorf("%.40s: status %d, want %d", body, rec.Code, want)
		}
		apptest.ProblemOf(t, rec)
	}
}

func TestRedisDownIs503NotLogout(t *testing.T) {
	a, h := setup(t)
	cookie := apptest.Cookie(login(h, `{"email":"`+ann+`","password":"correct horse"}`), session.CookieName)
	// Point the same handler code at a Redis that is not there.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	a.Redis = dead
	a.Sessions = session.NewStore(dead)
	down := apptest.Function(t, a, New)
	if rec := apptest.Serve(down, apptest.Request("GET", "/api/me", "", cookie)); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("me with Redis down: %d", rec.Code)
	}
	if rec := login(down, `{"email":"`+ann+`","password":"correct horse"}`); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("login with Redis down: %d", rec.Code)
	}
}

func TestDummyHashIsAValidHashOfTheCurrentParameters(t *testing.T) {
	ok, err := password.Verify(dummyHash, "anything")
	if err != nil || ok {
		t.Fatalf("dummy hash: ok=%v err=%v", ok, err)
	}
	fresh, _ := password.Hash("x")
	if strings.Split(fresh, "$")[3] != strings.Split(dummyHash, "$")[3] {
		t.Fatal("the dummy hash uses other argon2 parameters than real hashes: unknown emails would answer faster")
	}
}

// The cookie's Secure flag follows the public URL's scheme, never Host:
// behind the cluster's HTTPRoute, Host is the Service's cluster-local name
// (infra/cluster/http-route.yaml), and over plain http://localhost a Secure
// cookie would be dropped by the browser.
func TestCookieSecureFollowsThePublicURLBehindTheHostRewrite(t *testing.T) {
	for _, c := range []struct {
		publicURL string
		secure    bool
	}{{"http://localhost:8080", false}, {"https://tidings.example", true}} {
		_, h := setupFor(t, c.publicURL)
		req := apptest.Request("POST", "/api/login", `{"email":"`+ann+`","password":"correct horse"}`)
		req.Host = "session.tidings.svc.cluster.local"
		rec := apptest.Serve(h, req)
		cookie := apptest.Cookie(rec, session.CookieName)
		if rec.Code != http.StatusOK || cookie == nil {
			t.Fatalf("%s: login %d %s", c.publicURL, rec.Code, rec.Body)
		}
		if cookie.Secure != c.secure {
			t.Errorf("%s: login cookie Secure=%v, want %v", c.publicURL, cookie.Secure, c.secure)
		}
		out := apptest.Request("POST", "/api/logout", "", cookie)
		out.Host = req.Host
		if cleared := apptest.Cookie(apptest.Serve(h, out), session.CookieName); cleared == nil || cleared.Secure != c.secure {
			t.Errorf("%s: logout cookie %+v, want Secure=%v", c.publicURL, cleared, c.secure)
		}
	}
}

// Twenty guesses at once, the right one among them: each attempt is counted
// before it is checked, so at most five are ever evaluated, the rest are
// 429, and the burst leaves the account locked for the window.
func TestParallelGuessesAreCountedBeforeTheyAreChecked(t *testing.T) {
	_, h := setup(t)
	codes := make(chan int, 20)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		pw := fmt.Sprintf("guess %d", i)
		if i == 19 {
			pw = "correct horse"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes <- login(h, `{"email":"`+ann+`","password":"`+pw+`"}`).Code
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if evaluated := count[200] + count[401]; evaluated > 5 || count[429] != 20-evaluated || len(count) > 3 {
		t.Fatalf("statuses %v: want at most 5 evaluated (200/401), the rest 429", count)
	}
	if rec := login(h, `{"email":"`+ann+`","password":"correct horse"}`); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after the burst: %d, want 429", rec.Code)
	}
	t.Logf("20 parallel guesses: %v", count)
}

// A successful login does not wipe the failures counted around it: a
// guesser working beside the owner gets no fresh allowance from the owner's
// logins.
func TestSuccessDoesNotResetOthersFailures(t *testing.T) {
	_, h := setup(t)
	for i := 0; i < 4; i++ {
		login(h, `{"email":"`+ann+`","password":"guess"}`)
	}
	for i := 0; i < 3; i++ { // the owner's own logins never count
		if rec := login(h, `{"email":"`+ann+`","password":"correct horse"}`); rec.Code != 200 {
			t.Fatalf("owner login %d: %d", i, rec.Code)
		}
	}
	if rec := login(h, `{"email":"`+ann+`","password":"guess"}`); rec.Code != 401 {
		t.Fatalf("fifth failure: %d", rec.Code)
	}
	if rec := login(h, `{"email":"`+ann+`","password":"guess"}`); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("sixth failure: %d, want 429", rec.Code)
	}
}

// Signup and login share one length rule, in characters: a password of 70
// "é" (140 bytes) that signup accepts logs in.
func TestLongMultibytePasswordLogsIn(t *testing.T) {
	a, h := setup(t)
	pw := strings.Repeat("é", 70)
	if err := password.Check(pw); err != nil {
		t.Fatalf("the rule refuses it: %v", err)
	}
	hash, _ := password.Hash(pw)
	email := "e-" + ann
	if _, err := a.Pool.Exec(context.Background(), `INSERT INTO users (email, name, password_hash) VALUES ($1, 'É', $2)`, email, hash); err != nil {
		t.Fatal(err)
	}
	if rec := login(h, `{"email":"`+email+`","password":"`+pw+`"}`); rec.Code != 200 {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
}

// Control characters in the email are bad input (400), not a database error
// answered as "try again" (503).
func TestControlCharactersInTheEmailAre400(t *testing.T) {
	_, h := setup(t)
	for _, email := range []string{`ann\u0000@example.com`, `ann\r\n@example.com`, `a\u0007@example.com`} {
		rec := login(h, `{"email":"`+email+`","password":"correct horse"}`)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", email, rec.Code, rec.Body)
			continue
		}
		if p := apptest.ProblemOf(t, rec); len(p.Fields()) != 1 || p.Fields()[0] != "email" {
			t.Errorf("%s: fields %v", email, p.Fields())
		}
	}
}

// POST /api/logout?all=1 ends every session of the account, and only its.
func TestLogoutEverywhere(t *testing.T) {
	a, h := setup(t)
	var cookies []*http.Cookie
	for i := 0; i < 3; i++ {
		cookies = append(cookies, apptest.Cookie(login(h, `{"email":"`+ann+`","password":"correct horse"}`), session.CookieName))
	}
	otherID := ""
	if err := a.Pool.QueryRow(context.Background(), `INSERT INTO users (email, name, password_hash) VALUES ($1, 'Bob', 'x') RETURNING id::text`, "bob-"+ann).Scan(&otherID); err != nil {
		t.Fatal(err)
	}
	otherToken, _ := a.Sessions.Create(context.Background(), otherID)
	if rec := apptest.Serve(h, apptest.Request("POST", "/api/logout?all=maybe", "", cookies[0])); rec.Code != 400 {
		t.Fatalf("all=maybe: %d", rec.Code)
	}
	rec := apptest.Serve(h, apptest.Request("POST", "/api/logout?all=1", "", cookies[0]))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("logout all: %d %s", rec.Code, rec.Body)
	}
	for i, c := range cookies {
		if rec := apptest.Serve(h, apptest.Request("GET", "/api/me", "", c)); rec.Code != 401 {
			t.Fatalf("session %d still works: %d", i, rec.Code)
		}
	}
	if ok, _ := a.Sessions.Exists(context.Background(), otherToken); !ok {
		t.Fatal("another account was logged out")
	}
	// Without a session it is a plain logout.
	if rec := apptest.Serve(h, apptest.Request("POST", "/api/logout?all=1", "")); rec.Code != http.StatusNoContent {
		t.Fatalf("logout all without a session: %d", rec.Code)
	}
}

// Logging in again and again keeps at most the store's bound of sessions;
// the oldest ends first.
func TestSessionsPerAccountAreBounded(t *testing.T) {
	a, h := setup(t)
	a.Sessions.MaxPerUser = 3
	var cookies []*http.Cookie
	for i := 0; i < 4; i++ {
		cookies = append(cookies, apptest.Cookie(login(h, `{"email":"`+ann+`","password":"correct horse"}`), session.CookieName))
	}
	for i, c := range cookies {
		want := 200
		if i == 0 {
			want = 401
		}
		if rec := apptest.Serve(h, apptest.Request("GET", "/api/me", "", c)); rec.Code != want {
			t.Fatalf("session %d: %d, want %d", i, rec.Code, want)
		}
	}
}
