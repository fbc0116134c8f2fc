package jsonbody

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// Decode never panics, answers only 2xx-free outcomes of 400/413 on
// failure, and never hands a handler text that is not valid UTF-8 or that
// holds U+FFFD the client did not send.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"Ann","text":"hi","tags":["a"]}`,
		"{\"name\":\"\xff\"}",
		`{"name":"\ud800"}`,
		`{"name":"\ud83d\ude00"}`,
		`{"name":"\\ud800"}`,
		`{"name":1}`,
		`{"x":1}`,
		`{"name":"a"} {}`,
		``,
		`[`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		var v form
		if !Decode(rec, req, &v, 1<<10) {
			if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d for %q", rec.Code, body)
			}
			return
		}
		for _, s := range append([]string{v.Name, v.Text}, v.Tags...) {
			if !utf8.ValidString(s) {
				t.Fatalf("decoded invalid UTF-8 %q from %q", s, body)
			}
			if strings.ContainsRune(s, utf8.RuneError) && !strings.ContainsRune(body, utf8.RuneError) && !strings.Contains(strings.ToLower(body), `\ufffd`) {
				t.Fatalf("decoded a U+FFFD the client did not send, from %q", body)
			}
		}
	})
}
