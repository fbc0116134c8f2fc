package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/infra/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Three runs at once (a Job re-applied while one runs, a person at a
// terminal) apply each migration once; a run after that changes nothing.
func TestMigrateIsSafeConcurrentlyAndIdempotent(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = run(ctx, quiet, url, 5*time.Second) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	pool, err := pg.Connect(ctx, url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pg.CheckSchema(ctx, pool); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
	rows := func() (n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := rows()
	if err := run(ctx, quiet, url, 5*time.Second); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if after := rows(); after != before {
		t.Fatalf("a second run applied %d more", after-before)
	}
}

// With no database to reach, migrate fails (the Job retries) instead of
// reporting success.
func TestMigrateFailsWithoutADatabase(t *testing.T) {
	if err := run(context.Background(), quiet, "postgres://postgres@127.0.0.1:1/none?sslmode=disable", 300*time.Millisecond); err == nil {
		t.Fatal("migrate succeeded with no database")
	}
}
