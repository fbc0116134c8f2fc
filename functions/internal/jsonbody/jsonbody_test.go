package jsonbody

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type form struct {
	Name string   `json:"name"`
	Text string   `json:"text"`
	Tags []string `json:"tags"`
}

func decode(body string) (*httptest.ResponseRecorder, form, bool) {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	var f form
	ok := Decode(rec, req, &f, 1<<10)
	return rec, f, ok
}

type problemBody struct {
	Errors []struct{ Field, Detail string } `json:"errors"`
}

// Text that is not Unicode is refused naming its field, never stored as
// U+FFFD: raw bytes that are not UTF-8, and \u escapes of lone surrogates.
func TestInvalidUTF8IsRefusedNamingTheField(t *testing.T) {
	for body, field := range map[string]string{
		"{\"name\":\"Ann \xff\xfe\",\"text\":\"hi\"}":        "name",
		"{\"name\":\"Ann\",\"text\":\"caf\xc3\"}":            "text",
		`{"name":"Ann","text":"x\ud800y"}`:                   "text",
		`{"name":"\udc00","text":"x"}`:                       "name",
		`{"name":"Ann","text":"x\ud83d\u0041"}`:              "text",
		"{\"name\":\"Ann\",\"tags\":[\"ok\",\"b\xe2\x82\"]}": "tags",
		"{\"name\":\"\xed\xa0\x80\"}":                        "name", // a surrogate encoded as UTF-8
	} {
		rec, _, ok := decode(body)
		if ok || rec.Code != http.StatusBadRequest {
			t.Errorf("%q: ok=%v status %d", body, ok, rec.Code)
			continue
		}
		var p problemBody
		if json.Unmarshal(rec.Body.Bytes(), &p) != nil || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%q: %s, want field %s", body, rec.Body, field)
		}
	}
	// Outside any value: still a 400.
	if rec, _, ok := decode("{\"na\xffme\":\"x\"}"); ok || rec.Code != http.StatusBadRequest {
		t.Errorf("bad key: ok=%v %d", ok, rec.Code)
	}
	if rec, _, ok := decode("\xff"); ok || rec.Code != http.StatusBadRequest {
		t.Errorf("not JSON: ok=%v %d", ok, rec.Code)
	}
}

func TestValidTextPassesUnchanged(t *testing.T) {
	rec, f, ok := decode(`{"name":"Zoë 😀 \ud83d\ude00","text":"a\\u00ffb \u00e9","tags":["\\\\ud800"]}`)
	if !ok {
		t.Fatalf("refused: %d %s", rec.Code, rec.Body)
	}
	if f.Name != "Zoë 😀 😀" || f.Text != `a\u00ffb é` || f.Tags[0] != `\\ud800` {
		t.Fatalf("decoded %+v", f)
	}
}

func TestBodyLimitsStillHold(t *testing.T) {
	if rec, _, _ := decode(`{"name":"` + strings.Repeat("x", 2<<10) + `"}`); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d", rec.Code)
	}
	if rec, _, _ := decode(`{"name":"x"} {}`); rec.Code != http.StatusBadRequest {
		t.Fatalf("two objects: %d", rec.Code)
	}
	if rec, _, _ := decode(``); rec.Code != http.StatusBadRequest {
		t.Fatalf("empty: %d", rec.Code)
	}
}
