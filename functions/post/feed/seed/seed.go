// Package seed fills a database with a synthetic social graph for the feed
// benchmark and the query-plan test: users, a fixed number of friends each,
// and posts spread over random authors and times. It is all set-based SQL
// (generate_series), so 100k posts take seconds.
package seed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Sizes say how big a graph to make.
type Sizes struct {
	Users   int
	Friends int // per user, even: each user befriends Friends/2 neighbours on each side of a ring
	Posts   int
}

// UserID is the id of the i-th seeded user (1-based), the same on every run.
func UserID(i int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", 0x5eed, i)
}

// Seed writes the graph into an empty, migrated database and ANALYZEs it.
func Seed(ctx context.Context, pool *pgxpool.Pool, s Sizes) error {
	if s.Users < 2 || s.Friends < 2 || s.Friends%2 != 0 || s.Friends >= s.Users {
		return fmt.Errorf("seed: bad sizes %+v: need Users >= 2 and an even Friends below Users", s)
	}
	// uid(i) mirrors UserID.
	const uid = `('00005eed-0000-4000-8000-' || lpad(to_hex(%s), 12, '0'))::uuid`
	steps := []struct {
		what, sql string
		args      []any
	}{
		{"users", `INSERT INTO users (id, email, name, password_hash)
			SELECT ` + fmt.Sprintf(uid, "i") + `, 'user' || i || '@seed.example', 'User ' || i, 'seeded: no login'
			FROM generate_series(1, $1::int) i`, []any{s.Users}},
		{"friendships", `INSERT INTO friendships (user_id, friend_id)
			SELECT ` + fmt.Sprintf(uid, "a") + `, ` + fmt.Sprintf(uid, "b") + `
			FROM generate_series(1, $1::int) i, generate_series(1, $2::int / 2) d,
				LATERAL (VALUES (i, ((i - 1 + d) % $1::int) + 1), (((i - 1 + d) % $1::int) + 1, i)) pair(a, b)`, []any{s.Users, s.Friends}},
		{"posts", `INSERT INTO posts (author_id, text, created_at)
			SELECT ` + fmt.Sprintf(uid, "1 + floor(random() * $1::int)::int") + `,
				'Seeded post number ' || j || '. ' || repeat('Lorem ipsum dolor sit amet. ', 1 + j % 5),
				now() - random() * interval '90 days'
			FROM generate_series(1, $2::int) j`, []any{s.Users, s.Posts}},
		{"analyze", `ANALYZE users, friendships, posts`, nil},
	}
	for _, st := range steps {
		if _, err := pool.Exec(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("seed %s: %w", st.what, err)
		}
	}
	return nil
}
