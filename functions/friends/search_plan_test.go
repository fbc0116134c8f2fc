package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// Search must stay an index range read as users grow: both prefixes come
// from text_pattern_ops indexes, never a scan of the users table.
func TestSearchUsesThePrefixIndexes(t *testing.T) {
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
	var raw []byte
	if err := e.a.Pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+searchSQL, me.ID, prefixPattern("person 1a"), maxSearchHits).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	plan := string(raw)
	if !strings.Contains(plan, `"users_name_prefix"`) || !strings.Contains(plan, `"users_email_prefix"`) || strings.Contains(plan, `"Seq Scan"`) {
		var pretty any
		json.Unmarshal(raw, &pretty)
		out, _ := json.MarshalIndent(pretty, "", " ")
		t.Fatalf("search does not read both prefix indexes:\n%s", out)
	}
}
