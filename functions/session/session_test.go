package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
	var u user
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
