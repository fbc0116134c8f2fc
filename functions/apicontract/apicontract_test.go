package apicontract_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/functions/apicontract"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/page"
	"github.com/tidings-dev/tidings/functions/internal/problem"
)

const userID = "0b8f3c1e-6a57-4c0e-9d7e-2f1b5a9c4d11"

// response builds a recorded response the way net/http's client hands one over.
func response(status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body))}
}

func jsonHeader(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func problemHeader() http.Header { return http.Header{"Content-Type": {"application/problem+json"}} }

const signedUp = `{"id":"` + userID + `","email":"ann@example.com","name":"Ann"}`

func TestResponsesAsTheDocumentDescribesThemPass(t *testing.T) {
	cases := []struct {
		name, method, path string
		res                *http.Response
	}{
		{"signup", "POST", "/api/signup", response(201, jsonHeader("Location", "/api/me", "Set-Cookie", "tidings_session=abc; Path=/; HttpOnly"), signedUp)},
		{"signup without a session cookie", "POST", "/api/signup", response(201, jsonHeader("Location", "/api/me"), signedUp)},
		{"logout", "POST", "/api/logout", response(204, http.Header{"Set-Cookie": {"tidings_session=; Path=/; Max-Age=0; HttpOnly"}}, "")},
		{"feed, last page", "GET", "/api/posts?limit=5", response(200, jsonHeader(), `{"posts":[{"id":"`+userID+`","author":{"id":"`+userID+`","name":"Ann"},"text":"hi","image":{"src":"/api/files/`+userID+`"},"createdAt":"2026-12-04T02:46:58.123456Z"}],"nextCursor":null}`)},
		{"mark all read", "POST", "/api/notifications/read", response(204, nil, "")},
		{"a picture", "GET", "/api/files/" + userID, response(200, http.Header{
			"Content-Type": {"image/png"}, "Etag": {`"` + userID + `"`}, "Cache-Control": {"private, max-age=600"}, "Vary": {"Cookie"},
			"X-Content-Type-Options": {"nosniff"}, "Content-Security-Policy": {"default-src 'none'; sandbox"}, "Content-Disposition": {"inline"},
		}, "\x89PNG\r\n\x1a\n")},
		{"the platform's problem", "GET", "/api/friends", response(503, problemHeader(), `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"service friends is stopped"}`)},
		{"the live stream opens", "GET", "/api/notifications/stream", response(101, http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}, "")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := apicontract.Check(httptest.NewRequest(c.method, c.path, nil), c.res); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestResponsesThatBreakTheDocumentFail(t *testing.T) {
	cases := []struct {
		name, method, path string
		res                *http.Response
	}{
		{"a required field missing", "POST", "/api/signup", response(201, jsonHeader("Location", "/api/me"), `{"id":"`+userID+`","email":"ann@example.com"}`)},
		{"a field the document does not have", "POST", "/api/signup", response(201, jsonHeader("Location", "/api/me"), `{"id":"`+userID+`","email":"ann@example.com","name":"Ann","password":"x"}`)},
		{"a name over the limit", "POST", "/api/signup", response(201, jsonHeader("Location", "/api/me"), `{"id":"`+userID+`","email":"ann@example.com","name":"`+strings.Repeat("a", 81)+`"}`)},
		{"an id that is not a UUID", "POST", "/api/signup", response(201, jsonHeader("Location", "/api/me"), `{"id":"42","email":"ann@example.com","name":"Ann"}`)},
		{"a required header missing", "POST", "/api/signup", response(201, jsonHeader(), signedUp)},
		{"a status the operation does not list", "POST", "/api/signup", response(200, jsonHeader(), signedUp)},
		{"a problem sent as plain JSON", "POST", "/api/signup", response(400, jsonHeader(), `{"type":"about:blank","title":"Bad","status":400}`)},
		{"a problem without a title", "POST", "/api/signup", response(400, problemHeader(), `{"type":"about:blank","status":400}`)},
		{"a body that is not JSON", "GET", "/api/me", response(200, jsonHeader(), `<html>`)},
		{"a wrong enum value", "GET", "/api/users?q=a", response(200, jsonHeader(), `{"users":[{"id":"`+userID+`","name":"Bob","relation":"enemy"}]}`)},
		{"null for a list", "GET", "/api/friends", response(200, jsonHeader(), `{"friends":null}`)},
		{"a 429 without Retry-After", "POST", "/api/login", response(429, problemHeader(), `{"type":"about:blank","title":"Too many","status":429}`)},
		{"a path the document does not have", "GET", "/api/nothing", response(404, problemHeader(), `{"type":"about:blank","title":"Not Found","status":404}`)},
		{"a method the path does not list", "PUT", "/api/signup", response(405, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, "Method Not Allowed\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := apicontract.Check(httptest.NewRequest(c.method, c.path, nil), c.res)
			if err == nil {
				t.Fatal("the contract accepted it")
			}
			t.Log(err)
		})
	}
}

// The problems the functions write are the document's Problem, each at a
// status some operation lists.
func TestTheFunctionsProblemsMatchTheDocument(t *testing.T) {
	field := problem.FieldError{Field: "name", Detail: "is required"}
	cases := []struct {
		method, path string
		write        func(w http.ResponseWriter)
	}{
		{"POST", "/api/signup", func(w http.ResponseWriter) { problem.Invalid(w, field) }},
		{"POST", "/api/signup", func(w http.ResponseWriter) { problem.Invalid(w, field, field) }},
		{"POST", "/api/login", func(w http.ResponseWriter) { problem.Unauthorized(w, "Invalid email or password.") }},
		{"POST", "/api/posts", func(w http.ResponseWriter) { problem.Forbidden(w, "Cross-site requests are not allowed.") }},
		{"GET", "/api/users/" + userID + "/posts", func(w http.ResponseWriter) { problem.NotFound(w, "No such person among your friends.") }},
		{"POST", "/api/signup", func(w http.ResponseWriter) { problem.Conflict(w, "taken", field) }},
		{"POST", "/api/login", func(w http.ResponseWriter) { problem.TooMany(w, 90*time.Second, "Try again later.") }},
		{"GET", "/api/posts", func(w http.ResponseWriter) { problem.Internal(w) }},
		{"GET", "/api/me", func(w http.ResponseWriter) { problem.Unavailable(w, "Please try again in a moment.") }},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		c.write(rec)
		if err := apicontract.Check(httptest.NewRequest(c.method, c.path, nil), rec.Result()); err != nil {
			t.Error(err)
		}
	}
}

// What jsonbody answers for a bad body (400, 413, 415) is in the contract.
func TestBadBodyAnswersMatchTheDocument(t *testing.T) {
	bodies := []struct{ contentType, body string }{
		{"application/json", `{"email":`},
		{"application/json", `[1]`},
		{"application/json", `{"nope":1}`},
		{"application/json", `{"email":1}`},
		{"application/json", `{"email":"` + strings.Repeat("x", 100) + `"}`},
		{"text/plain", `hi`},
	}
	for _, b := range bodies {
		req := httptest.NewRequest("POST", "/api/login", strings.NewReader(b.body))
		req.Header.Set("Content-Type", b.contentType)
		rec := httptest.NewRecorder()
		var dst struct {
			Email string `json:"email"`
		}
		if jsonbody.Decode(rec, req, &dst, 64) {
			t.Fatalf("%s %q decoded", b.contentType, b.body)
		}
		if err := apicontract.Check(req, rec.Result()); err != nil {
			t.Error(err)
		}
	}
}

func TestCheckingReportsABrokenResponseAndHandsItOverIntact(t *testing.T) {
	body := `{"id":"` + userID + `","email":"ann@example.com","name":"Ann","extra":true}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/me" && r.URL.Query().Has("good") {
			body := signedUp
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body) //nolint:errcheck
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body) //nolint:errcheck
	}))
	defer srv.Close()
	var reported []error
	c := &http.Client{Transport: apicontract.Checking(nil, func(err error) { reported = append(reported, err) })}

	res, err := c.Get(srv.URL + "/api/me")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Equal(got, []byte(body)) {
		t.Fatalf("the caller got %q", got)
	}
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "extra") {
		t.Fatalf("reported %v, want one error naming the extra field", reported)
	}

	res, err = c.Get(srv.URL + "/api/me?good")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(reported) != 1 {
		t.Fatalf("a good response was reported: %v", reported[1:])
	}
}

func TestLimitsComeFromTheDocument(t *testing.T) {
	if err := apicontract.CheckLimits(
		apicontract.Declared{Schema: "PageLimit", Keyword: "minimum", Value: 1},
		apicontract.Declared{Schema: "PageLimit", Keyword: "maximum", Value: page.MaxLimit},
		apicontract.Declared{Schema: "PageLimit", Keyword: "default", Value: page.DefaultLimit},
		apicontract.Declared{Schema: "FriendRequests.incoming", Keyword: "maxItems", Value: 500},
	); err != nil {
		t.Fatal(err)
	}
	wrong := apicontract.CheckLimits(
		apicontract.Declared{Schema: "Name", Keyword: "maxLength", Value: 81},
		apicontract.Declared{Schema: "Nobody", Keyword: "maxLength", Value: 1},
		apicontract.Declared{Schema: "Name", Keyword: "maxItems", Value: 1},
		apicontract.Declared{Schema: "Name", Keyword: "pattern", Value: 1},
	)
	if wrong == nil || strings.Count(wrong.Error(), "\n") != 3 {
		t.Fatalf("want four mismatches, got %v", wrong)
	}
}
