// Package pg opens the Postgres pool, applies the schema migrations (the
// migrate command, once per release) and tells a function whether the
// schema it was built for is in place.
package pg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open returns a pool that connects on first use: a function starts while
// Postgres is down and its readiness probe says so.
func Open(url string) (*pgxpool.Pool, error) {
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, err
	}
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

func poolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if cfg.MaxConns < 10 {
		cfg.MaxConns = 10
	}
	return cfg, nil
}

// Connect opens a pool and waits (up to wait) for the server to answer, for
// a command that cannot do anything without it (migrate).
func Connect(ctx context.Context, url string, wait time.Duration) (*pgxpool.Pool, error) {
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = pool.Ping(pingCtx)
		cancel()
		if err == nil {
			return pool, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres at %s: %w", cfg.ConnConfig.Host, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// migrationLock is the advisory lock key that serialises migrations when
// two runs of migrate overlap (a re-applied Job, a person at a terminal).
const migrationLock = 0x7469_6469_6e67 // "tiding"

// Migrate applies every embedded migration not yet applied, in name order,
// each in its own transaction.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	names, err := embedded()
	if err != nil {
		return err
	}
	applied, err := appliedNames(ctx, conn)
	if err != nil {
		return err
	}
	for _, short := range names {
		if slices.Contains(applied, short) {
			continue
		}
		sql, err := migrations.ReadFile("migrations/" + short)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, short)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", short, err)
		}
	}
	return nil
}

// embedded lists the migrations built into this binary, in order.
func embedded() ([]string, error) {
	paths, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimPrefix(p, "migrations/")
	}
	sort.Strings(names)
	return names, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func appliedNames(ctx context.Context, db querier) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// ErrSchemaBehind means a migration this binary embeds is not applied yet:
// the release's migrate Job has not run (or not finished).
var ErrSchemaBehind = errors.New("the database schema is behind this build: run migrate")

// CheckSchema returns nil when every migration this binary embeds is
// applied, or an error wrapping ErrSchemaBehind naming the first missing
// one. A database newer than the binary is fine: migrations only add.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := embedded()
	if err != nil {
		return err
	}
	applied, err := appliedNames(ctx, pool)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: never migrated
		return fmt.Errorf("%w (no schema_migrations table)", ErrSchemaBehind)
	}
	if err != nil {
		return err
	}
	for _, name := range names {
		if !slices.Contains(applied, name) {
			return fmt.Errorf("%w (%s is not applied)", ErrSchemaBehind, name)
		}
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation,
// of the named constraint when one is given.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}
