// Command feedbench measures feed reads at scale: it seeds a fresh database
// with a social graph (10k users, 50 friends each, 100k posts by default),
// then has C concurrent readers call feed.Feed, the function behind
// GET /api/posts, for a fixed time, and prints throughput and latency
// percentiles.
//
//	go run ./functions/post/feedbench -duration 20s -concurrency 8
//
// The database is FEEDBENCH_DATABASE_URL, which must be empty; by default a
// new database is created on the local test Postgres (127.0.0.1:5432) and
// dropped afterwards.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/functions/internal/page"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/functions/post/feed"
	"github.com/tidings-dev/tidings/functions/post/feed/seed"
)

const defaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func main() {
	var (
		users       = flag.Int("users", 10_000, "users to seed")
		friends     = flag.Int("friends", 50, "friends per user (even)")
		posts       = flag.Int("posts", 100_000, "posts to seed")
		duration    = flag.Duration("duration", 15*time.Second, "how long to read")
		concurrency = flag.Int("concurrency", 8, "concurrent readers")
		limit       = flag.Int("limit", page.DefaultLimit, "posts per page")
		nextShare   = flag.Float64("next-pages", 0.25, "share of reads that fetch the second page with the first page's cursor")
		keep        = flag.Bool("keep", false, "keep the database the benchmark created")
	)
	flag.Parse()
	if err := run(*users, *friends, *posts, *duration, *concurrency, *limit, *nextShare, *keep); err != nil {
		slog.Error("feedbench", "err", err)
		os.Exit(1)
	}
}

func run(users, friends, posts int, duration time.Duration, concurrency, limit int, nextShare float64, keep bool) error {
	ctx := context.Background()
	dbURL := os.Getenv("FEEDBENCH_DATABASE_URL")
	if dbURL == "" {
		created, drop, err := createDatabase(ctx, defaultServer)
		if err != nil {
			return err
		}
		if !keep {
			defer drop()
		} else {
			fmt.Println("database kept:", created)
		}
		dbURL = created
	}
	// One connection per reader and two spare, so the pool is not what is
	// being measured.
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	q := u.Query()
	q.Set("pool_max_conns", fmt.Sprint(max(10, concurrency+2)))
	u.RawQuery = q.Encode()
	pool, err := pg.Connect(ctx, u.String(), 10*time.Second)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pg.Migrate(ctx, pool); err != nil {
		return err
	}

	start := time.Now()
	if err := seed.Seed(ctx, pool, seed.Sizes{Users: users, Friends: friends, Posts: posts}); err != nil {
		return err
	}
	fmt.Printf("seeded %d users, %d friends each, %d posts in %s\n", users, friends, posts, time.Since(start).Round(time.Millisecond))

	read := func(rng *mrand.Rand) (int, error) {
		viewer := seed.UserID(1 + rng.IntN(users))
		p := page.Params{Limit: limit}
		got, next, err := feed.Feed(ctx, pool, viewer, p)
		if err != nil || next == nil || rng.Float64() >= nextShare {
			return len(got), err
		}
		c, err := page.Decode(*next)
		if err != nil {
			return 0, err
		}
		p.After = &c
		got, _, err = feed.Feed(ctx, pool, viewer, p)
		return len(got), err
	}

	// Warm the caches and connections, then measure.
	warm := mrand.New(mrand.NewPCG(1, 2))
	for range 200 {
		if _, err := read(warm); err != nil {
			return err
		}
	}
	type result struct {
		lat   []time.Duration
		items int
		err   error
	}
	results := make([]result, concurrency)
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), 42))
			r := &results[w]
			for time.Now().Before(deadline) {
				t0 := time.Now()
				n, err := read(rng)
				if err != nil {
					r.err = err
					return
				}
				r.lat = append(r.lat, time.Since(t0))
				r.items += n
			}
		}()
	}
	began := time.Now()
	wg.Wait()
	elapsed := time.Since(began)

	var all []time.Duration
	items := 0
	for _, r := range results {
		if r.err != nil {
			return fmt.Errorf("reader: %w", r.err)
		}
		all = append(all, r.lat...)
		items += r.items
	}
	if len(all) == 0 {
		return fmt.Errorf("no reads completed in %s", duration)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	fmt.Printf("feed reads: %d in %s with %d readers (%.0f%% also read page 2)\n", len(all), elapsed.Round(time.Millisecond), concurrency, nextShare*100)
	fmt.Printf("throughput: %.0f reads/s, %.1f posts per read\n", float64(len(all))/elapsed.Seconds(), float64(items)/float64(len(all)))
	fmt.Printf("latency: p50 %s  p90 %s  p99 %s  max %s\n", pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond),
		pct(0.99).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
	return nil
}

// createDatabase makes a new, empty database on the server at adminURL and
// returns its URL and a function that drops it.
func createDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	suffix := make([]byte, 4)
	rand.Read(suffix) //nolint:errcheck // crypto/rand.Read does not fail
	name := "feedbench_" + hex.EncodeToString(suffix)
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s (set FEEDBENCH_DATABASE_URL to use another database): %w", adminURL, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, _ := url.Parse(adminURL)
	u.Path = "/" + name
	drop := func() {
		c, err := pgx.Connect(context.Background(), adminURL)
		if err != nil {
			slog.Warn("feedbench: database not dropped", "db", name, "err", err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			slog.Warn("feedbench: database not dropped", "db", name, "err", err)
		}
	}
	return u.String(), drop, nil
}
