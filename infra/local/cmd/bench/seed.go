package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/argon2"
)

// graphSizes say how big a social graph seedGraph makes.
type graphSizes struct {
	users   int
	friends int // per user, even: each befriends friends/2 neighbours on each side of a ring
	posts   int
}

func (g graphSizes) check() error {
	if g.users < 2 || g.friends < 2 || g.friends%2 != 0 || g.friends >= g.users || g.posts < 1 {
		return fmt.Errorf("bad graph %d users, %d friends each, %d posts: need at least 2 users, an even number of friends below the users, and a post", g.users, g.friends, g.posts)
	}
	return nil
}

// seededPassword is every seeded user's password.
const seededPassword = "correct horse battery"

// seededEmail is the i-th seeded user's (1-based) email, as seedGraph
// writes it.
func seededEmail(i int) string { return fmt.Sprintf("user%d@seed.example", i) }

// seedGraph writes users, friendships and posts into the migrated, empty
// database at dbURL with set-based SQL (generate_series, so 100k posts take
// seconds), against the schema of functions/internal/pg/migrations, and
// ANALYZEs the tables. Posts are spread over random authors and the last 90
// days.
func seedGraph(ctx context.Context, dbURL string, g graphSizes) error {
	hash, err := passwordHash(seededPassword)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// uid(i) is the i-th user's id, the same on every run.
	const uid = `('00005eed-0000-4000-8000-' || lpad(to_hex(%s), 12, '0'))::uuid`
	steps := []struct {
		what, sql string
		args      []any
	}{
		{"users", `INSERT INTO users (id, email, name, password_hash)
			SELECT ` + fmt.Sprintf(uid, "i") + `, 'user' || i || '@seed.example', 'User ' || i, $2
			FROM generate_series(1, $1::int) i`, []any{g.users, hash}},
		{"friendships", `INSERT INTO friendships (user_id, friend_id)
			SELECT ` + fmt.Sprintf(uid, "a") + `, ` + fmt.Sprintf(uid, "b") + `
			FROM generate_series(1, $1::int) i, generate_series(1, $2::int / 2) d,
				LATERAL (VALUES (i, ((i - 1 + d) % $1::int) + 1), (((i - 1 + d) % $1::int) + 1, i)) pair(a, b)`, []any{g.users, g.friends}},
		{"posts", `INSERT INTO posts (author_id, text, created_at)
			SELECT ` + fmt.Sprintf(uid, "1 + floor(random() * $1::int)::int") + `,
				'Seeded post number ' || j || '. ' || repeat('Lorem ipsum dolor sit amet. ', 1 + j % 5),
				now() - random() * interval '90 days'
			FROM generate_series(1, $2::int) j`, []any{g.users, g.posts}},
		{"analyze", `ANALYZE users, friendships, posts`, nil},
	}
	for _, st := range steps {
		if _, err := conn.Exec(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("seed %s: %w", st.what, err)
		}
	}
	return nil
}

// passwordHash is an argon2id PHC string at the parameters and in the format
// of functions/internal/password/password.go, so POST /api/login accepts the
// seeded users. All of them share it (and its salt): only login reads it.
func passwordHash(plain string) (string, error) {
	const memoryKiB, passes, lanes, keyLen = 19 * 1024, 2, 1, 32
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(plain), salt, passes, memoryKiB, lanes, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}
