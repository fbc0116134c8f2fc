package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/infra/backing"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// postgresServer finds (or starts, once) the server test databases live on.
type postgresServer struct {
	envURL, defaultURL string

	once    sync.Once
	baseURL string
	err     error
	private *backing.Postgres
}

var sharedPostgres = &postgresServer{envURL: os.Getenv("TIDINGS_TEST_DATABASE_URL"), defaultURL: defaultPostgresURL}

// Postgres returns the URL of a new, empty database that exists until the
// test ends. See the package comment for where the server comes from.
func Postgres(t testing.TB) string {
	t.Helper()
	return sharedPostgres.database(t)
}

func (s *postgresServer) database(t testing.TB) string {
	t.Helper()
	s.once.Do(s.find)
	if s.err != nil {
		t.Fatalf("testenv: no Postgres: %v", s.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := RandomName("tidings_t_")
	if err := execAdmin(ctx, s.baseURL, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := execAdmin(ctx, s.baseURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop test database: %v", err)
		}
	})
	u, _ := url.Parse(s.baseURL) // parsed fine in find
	u.Path = "/" + name
	return u.String()
}

func (s *postgresServer) find() {
	base := s.envURL
	if base == "" {
		base = s.defaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		s.err = fmt.Errorf("%q is not a postgres:// URL", base)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	reachErr := ping(ctx, base)
	cancel()
	if reachErr == nil {
		s.baseURL = base
		return
	}
	if s.envURL != "" {
		s.err = fmt.Errorf("TIDINGS_TEST_DATABASE_URL=%s is unreachable: %w", s.envURL, reachErr)
		return
	}
	s.baseURL, s.private, s.err = startPrivatePostgres()
	if s.err != nil {
		s.err = fmt.Errorf("%s unreachable (%v), and a private server failed: %w", base, reachErr, s.err)
	}
}

func startPrivatePostgres() (string, *backing.Postgres, error) {
	dir, err := privateDir("postgres")
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var lastErr error
	for range 3 { // a free port can be taken by a parallel test binary
		port, err := freePort()
		if err != nil {
			return "", nil, err
		}
		pg, err := backing.StartPostgres(ctx, dir, port, nil)
		if err == nil {
			return pg.URL(), pg, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "cannot listen") {
			break
		}
	}
	return "", nil, lastErr
}

func ping(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

func execAdmin(ctx context.Context, baseURL, sql string) error {
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", baseURL, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
