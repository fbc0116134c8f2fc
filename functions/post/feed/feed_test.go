package feed_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/page"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/functions/post/feed"
	"github.com/tidings-dev/tidings/functions/post/feed/seed"
)

func seeded(t *testing.T, s seed.Sizes) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := pg.Connect(ctx, apptest.Database(t), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := seed.Seed(ctx, pool, s); err != nil {
		t.Fatal(err)
	}
	return pool
}

// planNode is the part of EXPLAIN (FORMAT JSON) the test walks.
type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planNode `json:"Plans"`
}

func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		c.walk(f)
	}
}

func explain(t *testing.T, pool *pgxpool.Pool, sql string, args []any) planNode {
	t.Helper()
	var raw []byte
	if err := pool.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var out []struct{ Plan planNode }
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	return out[0].Plan
}

// The feed must read each friend's newest posts from the index and look up
// names by key: no table is scanned whole, so a feed read does not slow
// down as users and posts pile up.
func TestFeedQueryReadsPostsThroughTheAuthorIndex(t *testing.T) {
	pool := seeded(t, seed.Sizes{Users: 2000, Friends: 20, Posts: 40000})
	viewer := seed.UserID(7)
	cursor := &page.Cursor{CreatedAt: time.Now().Add(-24 * time.Hour), ID: seed.UserID(1)}
	for _, c := range []struct {
		name string
		sql  string
		p    page.Params
	}{
		{"feed first page", feed.FeedSQL(false), page.Params{Limit: 20}},
		{"feed later page", feed.FeedSQL(true), page.Params{Limit: 20, After: cursor}},
		{"author first page", feed.AuthorSQL(false), page.Params{Limit: 20}},
		{"author later page", feed.AuthorSQL(true), page.Params{Limit: 20, After: cursor}},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := explain(t, pool, c.sql, feed.Args(viewer, c.p))
			var usesIndex bool
			var seqScanned []string
			plan.walk(func(n planNode) {
				if strings.Contains(n.NodeType, "Index") && n.Index == "posts_author_created" {
					usesIndex = true
				}
				if n.NodeType == "Seq Scan" {
					seqScanned = append(seqScanned, n.Relation)
				}
			})
			if !usesIndex || len(seqScanned) > 0 {
				out, _ := json.MarshalIndent(plan, "", " ")
				t.Fatalf("plan does not read posts by posts_author_created or scans whole tables (%v):\n%s", seqScanned, out)
			}
		})
	}
}

// On the seeded graph the feed holds exactly the viewer's and friends'
// posts, in order, across pages.
func TestFeedOnASeededGraph(t *testing.T) {
	pool := seeded(t, seed.Sizes{Users: 200, Friends: 10, Posts: 3000})
	ctx := context.Background()
	viewer := seed.UserID(42)
	var want []string
	rows, err := pool.Query(ctx, `SELECT id::text FROM posts WHERE author_id = $1 OR author_id IN (SELECT friend_id FROM friendships WHERE user_id = $1) ORDER BY created_at DESC, id DESC`, viewer)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		want = append(want, id)
	}
	if rows.Err() != nil || len(want) < 50 {
		t.Fatalf("seeded feed too small to test (%d posts): %v", len(want), rows.Err())
	}
	var got []string
	p := page.Params{Limit: 17}
	for {
		posts, next, err := feed.Feed(ctx, pool, viewer, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, post := range posts {
			got = append(got, post.ID)
		}
		if next == nil {
			break
		}
		c, err := page.Decode(*next)
		if err != nil {
			t.Fatal(err)
		}
		p.After = &c
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged feed has %d posts, want %d in the same order", len(got), len(want))
	}
	friends := 0
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM friendships WHERE user_id = $1`, viewer).Scan(&friends); err != nil || friends != 10 {
		t.Fatalf("seeded user has %d friends, want 10 (%v)", friends, err)
	}
}
