package page

import (
	"encoding/base64"
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestCursorRoundTripKeepsMicroseconds(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.FixedZone("x", 3600))
	id := "0b7e4c0e-8a51-4a52-9a57-3d1d1c7b0f42"
	c, err := Decode(Encode(at, id))
	if err != nil {
		t.Fatal(err)
	}
	if !c.CreatedAt.Equal(at) || c.ID != id {
		t.Fatalf("round trip gave %+v", c)
	}
}

func TestDecodeRejectsMalformedCursors(t *testing.T) {
	b := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		"not base64!",
		b("no separator"),
		b("yesterday|0b7e4c0e-8a51-4a52-9a57-3d1d1c7b0f42"),
		b("2026-03-01T12:00:00Z|not-a-uuid"),
		b("2026-03-01T12:00:00Z|"),
		b("2026-03-01T12:00:00Z|{0b7e4c0e-8a51-4a52-9a57-3d1d1c7b0f42}"),
	} {
		if _, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) accepted a malformed cursor", s)
		}
	}
}

func TestParse(t *testing.T) {
	good := Encode(time.Unix(1700000000, 0), "0b7e4c0e-8a51-4a52-9a57-3d1d1c7b0f42")
	cases := []struct {
		query  string
		limit  int
		after  bool
		fields []string
	}{
		{query: "", limit: DefaultLimit},
		{query: "limit=1", limit: 1},
		{query: "limit=100&cursor=" + good, limit: 100, after: true},
		{query: "limit=0", fields: []string{"limit"}},
		{query: "limit=101", fields: []string{"limit"}},
		{query: "limit=ten", fields: []string{"limit"}},
		{query: "limit=", fields: []string{"limit"}},
		{query: "cursor=abc", fields: []string{"cursor"}},
		{query: "cursor=abc&limit=-1", fields: []string{"limit", "cursor"}},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		p, errs := Parse(q)
		var fields []string
		for _, e := range errs {
			fields = append(fields, e.Field)
		}
		if !slices.Equal(fields, c.fields) {
			t.Errorf("%q: fields %v, want %v", c.query, fields, c.fields)
			continue
		}
		if len(errs) == 0 && (p.Limit != c.limit || (p.After != nil) != c.after) {
			t.Errorf("%q: got %+v", c.query, p)
		}
	}
}

func TestCutReturnsNextCursorOnlyWhenMoreRemain(t *testing.T) {
	type item struct {
		at time.Time
		id string
	}
	key := func(i item) (time.Time, string) { return i.at, i.id }
	base := time.Unix(1700000000, 0).UTC()
	ids := []string{"00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000001"}
	var items []item
	for _, id := range ids {
		items = append(items, item{base, id})
	}
	got, next := Cut(items, 2, key)
	if len(got) != 2 || next == nil {
		t.Fatalf("want 2 items and a next cursor, got %d %v", len(got), next)
	}
	c, err := Decode(*next)
	if err != nil || c.ID != ids[1] || !c.CreatedAt.Equal(base) {
		t.Fatalf("next cursor %+v %v does not name the last item of the page", c, err)
	}
	if got, next := Cut(items, 3, key); len(got) != 3 || next != nil {
		t.Fatalf("last page: %d items, next %v", len(got), next)
	}
}
