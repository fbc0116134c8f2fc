package pg_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// Several functions cold-start at once against a new database; the advisory
// lock must let exactly one apply each migration.
func TestConcurrentMigrationsApplyOnce(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := pg.Connect(ctx, url, 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			errs <- pg.Migrate(ctx, pool)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pool, err := pg.Connect(ctx, url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var applied, distinct int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT name) FROM schema_migrations`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Fatalf("%d migration rows for %d migrations", applied, distinct)
	}
	// Running again changes nothing.
	if err := pg.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var again int
	pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&again) //nolint:errcheck
	if again != applied {
		t.Fatalf("a second run applied %d more", again-applied)
	}
}

func TestConnectGivesUpOnADeadServer(t *testing.T) {
	start := time.Now()
	_, err := pg.Connect(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable", 300*time.Millisecond)
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("kept trying for %s", time.Since(start))
	}
}

func TestIsUniqueViolation(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := context.Background()
	pool, err := pg.Connect(ctx, url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE t (k int CONSTRAINT t_k_key UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	pool.Exec(ctx, `INSERT INTO t VALUES (1)`) //nolint:errcheck
	_, err = pool.Exec(ctx, `INSERT INTO t VALUES (1)`)
	if !pg.IsUniqueViolation(err, "t_k_key") || !pg.IsUniqueViolation(err, "") || pg.IsUniqueViolation(err, "other") {
		t.Fatalf("unique violation not recognised: %v", err)
	}
	if pg.IsUniqueViolation(nil, "") {
		t.Fatal("nil is not a violation")
	}
}

// A database whose newest migration is missing is behind; a migrated one is
// current.
func TestCheckSchemaNamesTheMissingMigration(t *testing.T) {
	ctx := context.Background()
	pool, err := pg.Connect(ctx, testenv.Postgres(t), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pg.CheckSchema(ctx, pool); !errors.Is(err, pg.ErrSchemaBehind) {
		t.Fatalf("a database never migrated: %v", err)
	}
	if err := pg.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := pg.CheckSchema(ctx, pool); err != nil {
		t.Fatalf("migrated: %v", err)
	}
	var newest string
	if err := pool.QueryRow(ctx, `DELETE FROM schema_migrations WHERE name = (SELECT max(name) FROM schema_migrations) RETURNING name`).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	err = pg.CheckSchema(ctx, pool)
	if !errors.Is(err, pg.ErrSchemaBehind) || !strings.Contains(err.Error(), newest) {
		t.Fatalf("newest migration %s missing: %v", newest, err)
	}
}
