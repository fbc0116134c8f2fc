package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// Search must stay an index read as users grow: names through the
// users_name_words full-text index, a whole address through the unique
// email index, never a scan of the users table.
func TestSearchUsesTheIndexes(t *testing.T) {
	e := setup(t)
	me := e.user(t, "Me", "me@example.com")
	ctx := context.Background()
	if _, err := e.a.Pool.Exec(ctx, `INSERT INTO users (email, name, password_hash)
		SELECT 'person' || i || '@example.com', 'Person ' || md5(i::text), 'x' FROM generate_series(1, 10000) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Pool.Exec(ctx, `ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sql   string
		args  []any
		index string
	}{
		{searchByNameSQL, []any{me.ID, wordsQuery("person 1a"), maxSearchHits}, "users_name_words"},
		{searchByEmailSQL, []any{me.ID, "Person17@example.com"}, "users_email_lower_key"},
	} {
		var raw []byte
		if err := e.a.Pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+c.sql, c.args...).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if plan := string(raw); !strings.Contains(plan, `"`+c.index+`"`) || strings.Contains(plan, `"Seq Scan"`) {
			var pretty any
			json.Unmarshal(raw, &pretty)
			out, _ := json.MarshalIndent(pretty, "", " ")
			t.Errorf("search does not read %s:\n%s", c.index, out)
		}
	}
}

func TestWordsQueryCarriesOnlyLettersAndDigits(t *testing.T) {
	for q, want := range map[string]string{
		"Ann Archer":        "'ann':* & 'archer':*",
		"o'brien":           "'o':* & 'brien':*",
		"x':* | 'y":         "'x':* & 'y':*",
		"%_\\!&|":           "",
		"zoë 50":            "'zoë':* & '50':*",
		"a b c d e f g h i": "'a':* & 'b':* & 'c':* & 'd':* & 'e':* & 'f':* & 'g':* & 'h':*",
	} {
		if got := wordsQuery(q); got != want {
			t.Errorf("%q: %s, want %s", q, got, want)
		}
	}
}
