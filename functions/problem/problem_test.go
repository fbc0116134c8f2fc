package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func decode(t *testing.T, rec *httptest.ResponseRecorder) Details {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var d Details
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if d.Status != rec.Code {
		t.Errorf("status in body %d, on the wire %d", d.Status, rec.Code)
	}
	return d
}

func TestInvalidNamesTheOneBadField(t *testing.T) {
	rec := httptest.NewRecorder()
	Invalid(rec, FieldError{Field: "email", Detail: "is required"})
	d := decode(t, rec)
	if rec.Code != http.StatusBadRequest || d.Type != typeBase+"validation" || d.Detail != "email is required" || len(d.Errors) != 1 {
		t.Fatalf("got %d %+v", rec.Code, d)
	}
}

func TestPlatformIsAboutBlankWithTheStatusText(t *testing.T) {
	rec := httptest.NewRecorder()
	Platform(rec, http.StatusBadGateway, "service friends: boom")
	d := decode(t, rec)
	if d.Type != "about:blank" || d.Title != "Bad Gateway" || d.Detail != "service friends: boom" || d.Errors != nil {
		t.Fatalf("got %+v", d)
	}
}

func TestTooManyRoundsRetryAfterUpToWholeSeconds(t *testing.T) {
	for _, c := range []struct {
		after time.Duration
		want  string
	}{{0, "1"}, {300 * time.Millisecond, "1"}, {time.Second, "1"}, {1500 * time.Millisecond, "2"}, {time.Hour, "3600"}} {
		rec := httptest.NewRecorder()
		TooMany(rec, c.after, "slow down")
		if got := rec.Header().Get("Retry-After"); got != c.want || rec.Code != http.StatusTooManyRequests {
			t.Errorf("TooMany(%v): %d Retry-After %q, want %q", c.after, rec.Code, got, c.want)
		}
	}
}
