package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

// client is the address the gateway names for this test's requests, new
// per test: the signup counters live in the shared test Redis.
var client string

func setup(t *testing.T) (*app.App, *apptest.Sink, http.Handler) {
	client = fmt.Sprintf("10.%d.%d.%d", rand.IntN(256), rand.IntN(256), rand.IntN(256))
	sink := apptest.NewSink(t)
	a := apptest.New(t, Name, Needs, sink.URL)
	return a, sink, apptest.Function(t, a, New)
}

func signup(h http.Handler, body string) *httptest.ResponseRecorder {
	return signupFrom(h, client, body)
}

// signupFrom sends a signup as the gateway passes it on: X-Forwarded-For
// ends with the address it received the request from.
func signupFrom(h http.Handler, xff, body string) *httptest.ResponseRecorder {
	req := apptest.Request("POST", "/api/signup", body)
	req.Header.Set("X-Forwarded-For", xff)
	return apptest.Serve(h, req)
}

func TestSignupCreatesUserSessionAndEvent(t *testing.T) {
	a, sink, h := setup(t)
	rec := signup(h, `{"email":"Ann@Example.com","password":"correct horse","name":"Ann"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var u session.User
	if err := json.Unmarshal(rec.Body.Bytes(), &u); err != nil || u.ID == "" || u.Email != "Ann@Example.com" || u.Name != "Ann" {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}
	c := apptest.Cookie(rec, session.CookieName)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || len(c.Value) < 43 {
		t.Fatalf("bad session cookie %+v", c)
	}
	if s, err := a.Sessions.Get(context.Background(), c.Value); err != nil || s.UserID != u.ID {
		t.Fatalf("session in redis: %+v %v", s, err)
	}
	var hash string
	if err := a.Pool.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash); err != nil || !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("password not stored as argon2id: %q %v", hash, err)
	}
	a.Outbox.Wait()
	got := sink.Events()
	if len(got) != 1 {
		t.Fatalf("sink got %d events, want 1", len(got))
	}
	e := got[0]
	if e.Type() != events.TypeUserSignedUp || e.Subject() != u.ID || e.Extensions()[events.PartitionKeyExtension] != u.ID || e.Source() != source {
		t.Fatalf("unexpected event %s", e)
	}
	if strings.Contains(string(e.Data()), "correct horse") || strings.Contains(string(e.Data()), "argon2") {
		t.Fatal("the event leaks the password")
	}
	if sink.Headers()[0].Get("Ce-Id") == "" {
		t.Fatal("event not sent in binary mode")
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); n != 0 {
		t.Fatalf("%d outbox rows left unsent", n)
	}
}

func TestSignupRejectsBadInputAndWritesNothing(t *testing.T) {
	a, sink, h := setup(t)
	long := strings.Repeat("x", 81)
	cases := []struct {
		name, body  string
		status      int
		fields      []string
		contentType string
	}{
		{name: "malformed json", body: `{"email":`, status: 400},
		{name: "not an object", body: `[1,2]`, status: 400},
		{name: "empty body", body: ``, status: 400},
		{name: "two objects", body: `{"email":"a@b.co","password":"12345678","name":"A"}{}`, status: 400},
		{name: "missing fields", body: `{}`, status: 400, fields: []string{"email", "password", "name"}},
		{name: "invalid email", body: `{"email":"ann","password":"12345678","name":"Ann"}`, status: 400, fields: []string{"email"}},
		{name: "display-name email", body: `{"email":"Ann <ann@example.com>","password":"12345678","name":"Ann"}`, status: 400, fields: []string{"email"}},
		{name: "email too long", body: fmt.Sprintf(`{"email":"%s@example.com","password":"12345678","name":"Ann"}`, strings.Repeat("a", 250)), status: 400, fields: []string{"email"}},
		{name: "short password", body: `{"email":"ann@example.com","password":"1234567","name":"Ann"}`, status: 400, fields: []string{"password"}},
		{name: "long password", body: fmt.Sprintf(`{"email":"ann@example.com","password":"%s","name":"Ann"}`, strings.Repeat("p", 129)), status: 400, fields: []string{"password"}},
		{name: "long name", body: fmt.Sprintf(`{"email":"ann@example.com","password":"12345678","name":"%s"}`, long), status: 400, fields: []string{"name"}},
		{name: "control char in name", body: `{"email":"ann@example.com","password":"12345678","name":"A\r\nBcc: x@y.z"}`, status: 400, fields: []string{"name"}},
		{name: "wrong type", body: `{"email":"ann@example.com","password":12345678,"name":"Ann"}`, status: 400, fields: []string{"password"}},
		{name: "unknown field", body: `{"email":"ann@example.com","password":"12345678","name":"Ann","admin":true}`, status: 400, fields: []string{"admin"}},
		{name: "oversized body", body: `{"email":"ann@example.com","password":"12345678","name":"` + strings.Repeat("x", 20<<10) + `"}`, status: 413},
		{name: "form content type", body: `email=a`, status: 415, contentType: "application/x-www-form-urlencoded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := apptest.Request("POST", "/api/signup", c.body)
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			rec := apptest.Serve(h, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			p := apptest.ProblemOf(t, rec)
			for _, f := range c.fields {
				if !slices.Contains(p.Fields(), f) {
					t.Errorf("problem does not name %q: %+v", f, p)
				}
			}
			if apptest.Cookie(rec, session.CookieName) != nil {
				t.Error("a rejected signup set a session cookie")
			}
		})
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM users`) + apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("bad input wrote %d rows", n)
	}
	if len(sink.Events()) != 0 {
		t.Fatal("bad input emitted an event")
	}
}

// A name that is not UTF-8 is refused naming the field, not stored with
// U+FFFD in place of what the person typed.
func TestSignupRefusesInvalidUTF8InTheName(t *testing.T) {
	a, _, h := setup(t)
	for _, body := range []string{
		"{\"email\":\"zoe@example.com\",\"password\":\"correct horse\",\"name\":\"Zo\xeb\"}",
		`{"email":"zoe@example.com","password":"correct horse","name":"Zo\udc00"}`,
	} {
		rec := signup(h, body)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("%q: %d %s", body, rec.Code, rec.Body)
		}
		if p := apptest.ProblemOf(t, rec); len(p.Fields()) != 1 || p.Fields()[0] != "name" {
			t.Fatalf("%q: fields %v", body, p.Fields())
		}
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM users`); n != 0 {
		t.Fatalf("%d users created", n)
	}
}

// Signups are limited per client address, as the trusted gateway names it:
// a forged X-Forwarded-For entry left of the gateway's does not reset it.
func TestSignupsAreLimitedPerClientAddress(t *testing.T) {
	t.Setenv("SIGNUPS_PER_HOUR", "3")
	_, _, h := setup(t)
	body := func(i int) string {
		return fmt.Sprintf(`{"email":"u%d-%s@example.com","password":"correct horse","name":"U"}`, i, strings.ReplaceAll(client, ".", "-"))
	}
	for i := 0; i < 3; i++ {
		if rec := signupFrom(h, fmt.Sprintf("6.6.6.%d, %s", i, client), body(i)); rec.Code != http.StatusCreated {
			t.Fatalf("signup %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := signupFrom(h, "6.6.6.99, "+client, body(3))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("fourth signup: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	apptest.ProblemOf(t, rec)
	// Another client is not affected.
	if rec := signupFrom(h, "172."+client[3:], body(4)); rec.Code != http.StatusCreated {
		t.Fatalf("another client: %d", rec.Code)
	}
}

func TestSignupWithoutCSRFHeaderIsForbidden(t *testing.T) {
	a, _, h := setup(t)
	req := apptest.Request("POST", "/api/signup", `{"email":"ann@example.com","password":"12345678","name":"Ann"}`)
	req.Header.Del("X-Requested-With")
	if rec := apptest.Serve(h, req); rec.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", rec.Code)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM users`); n != 0 {
		t.Fatal("a cross-site signup created a user")
	}
}

func TestDuplicateEmailIsAConflictCaseInsensitively(t *testing.T) {
	a, sink, h := setup(t)
	if rec := signup(h, `{"email":"bob@example.com","password":"12345678","name":"Bob"}`); rec.Code != 201 {
		t.Fatalf("first signup: %d %s", rec.Code, rec.Body)
	}
	rec := signup(h, `{"email":"BOB@example.COM","password":"87654321","name":"Other Bob"}`)
	if rec.Code != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", rec.Code, rec.Body)
	}
	if p := apptest.ProblemOf(t, rec); !slices.Contains(p.Fields(), "email") {
		t.Fatalf("409 does not name the email field: %+v", p)
	}
	a.Outbox.Wait()
	if n := len(sink.Events()); n != 1 {
		t.Fatalf("%d signed-up events, want 1 (no second welcome email)", n)
	}
}

func TestConcurrentDuplicateSignupsCreateOneUser(t *testing.T) {
	a, _, h := setup(t)
	var wg sync.WaitGroup
	codes := make(chan int, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- signup(h, `{"email":"race@example.com","password":"12345678","name":"Race"}`).Code
		}()
	}
	wg.Wait()
	close(codes)
	created := 0
	for c := range codes {
		switch c {
		case 201:
			created++
		case 409:
		default:
			t.Fatalf("unexpected status %d", c)
		}
	}
	if created != 1 || apptest.Count(t, a.Pool, `SELECT count(*) FROM users`) != 1 || apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox`) != 1 {
		t.Fatalf("created=%d: want exactly one user and one event", created)
	}
}

func TestSignupSucceedsWhileTheSinkIsDownAndTheRelayDeliversLater(t *testing.T) {
	a, sink, h := setup(t)
	sink.Down.Store(true)
	if rec := signup(h, `{"email":"cid@example.com","password":"12345678","name":"Cid"}`); rec.Code != 201 {
		t.Fatalf("signup with Kafka down: %d %s", rec.Code, rec.Body)
	}
	a.Outbox.Wait()
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND attempts = 1 AND last_error LIKE '%503%'`); n != 1 {
		t.Fatalf("want the event held unsent in the outbox with the sink's error, got %d rows", n)
	}
	sink.Down.Store(false)
	res, err := a.Outbox.Sweep(context.Background(), 0, 100)
	if err != nil || res.Sent != 1 {
		t.Fatalf("sweep: %+v %v", res, err)
	}
	if len(sink.Events()) != 1 {
		t.Fatalf("sink got %d events after the sweep", len(sink.Events()))
	}
	if res, _ := a.Outbox.Sweep(context.Background(), 0, 100); res.Sent != 0 {
		t.Fatal("a second sweep resent a delivered event")
	}
}

// Signup judges every address of the contract's table (events/testdata/emails.json)
// as the event schema does: accepted ones make an account and a valid
// user.signedup event, the rest a 400 naming the email. Never a 500.
func TestSignupJudgesEmailsAsTheEventContractDoes(t *testing.T) {
	a, sink, h := setup(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "testdata", "emails.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Address string `json:"address"`
		Valid   bool   `json:"valid"`
		Note    string `json:"note"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		body, _ := json.Marshal(map[string]string{"email": c.Address, "password": "correct horse", "name": "Ann"})
		rec := signup(h, string(body))
		switch {
		case c.Valid && rec.Code != http.StatusCreated:
			t.Errorf("%q (%s): status %d, want 201: %s", c.Address, c.Note, rec.Code, rec.Body)
		case !c.Valid && rec.Code != http.StatusBadRequest:
			t.Errorf("%q (%s): status %d, want 400: %s", c.Address, c.Note, rec.Code, rec.Body)
		case !c.Valid && !slices.Contains(apptest.ProblemOf(t, rec).Fields(), "email"):
			t.Errorf("%q (%s): the 400 does not name the email", c.Address, c.Note)
		}
		if _, err := a.Pool.Exec(context.Background(), `DELETE FROM users`); err != nil {
			t.Fatal(err)
		}
	}
	a.Outbox.Wait()
	for _, e := range sink.Events() {
		if err := events.Validate(e); err != nil {
			t.Errorf("signup emitted an event the contract rejects: %v", err)
		}
	}
}

// Behind the cluster's Host rewrite (infra/cluster/http-route.yaml) an older
// browser's signup, known only by its Origin, passes the CSRF guard when the
// Origin is the public site, and a page on another site is refused.
func TestSignupBehindTheHostRewriteTrustsOnlyThePublicOrigin(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.NewWith(t, Name, Needs, app.Settings{Sink: sink.URL, PublicURL: "https://tidings.example"})
	h := apptest.Function(t, a, New)
	post := func(origin, email string) *httptest.ResponseRecorder {
		req := apptest.Request("POST", "/api/signup", `{"email":"`+email+`","password":"correct horse","name":"Ann"}`)
		req.Host = "signup.tidings.svc.cluster.local"
		req.Header.Set("Origin", origin)
		return apptest.Serve(h, req)
	}
	if rec := post("https://evil.example", "eve@example.com"); rec.Code != http.StatusForbidden {
		t.Fatalf("another site's origin: %d %s", rec.Code, rec.Body)
	}
	rec := post("https://tidings.example", "ann@example.com")
	if rec.Code != http.StatusCreated {
		t.Fatalf("the public origin behind the rewrite: %d %s", rec.Code, rec.Body)
	}
	if c := apptest.Cookie(rec, session.CookieName); c == nil || !c.Secure {
		t.Fatalf("https site: cookie %+v, want Secure", c)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("%d users, want 1 (the refused signup wrote one)", n)
	}
}
