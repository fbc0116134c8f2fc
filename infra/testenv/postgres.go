package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
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

	// templates are made once per test binary, by name; creating copies
	// is serialised because Postgres refuses to copy a template that
	// another CREATE DATABASE is reading.
	mu        sync.Mutex
	templates map[string]*template
}

type template struct {
	once sync.Once
	name string
	err  error
}

var sharedPostgres = &postgresServer{envURL: os.Getenv("TIDINGS_TEST_DATABASE_URL"), defaultURL: defaultPostgresURL}

// Postgres returns the URL of a new, empty database that exists until the
// test ends. See the package comment for where the server comes from.
func Postgres(t testing.TB) string {
	t.Helper()
	return sharedPostgres.database(t, "template0")
}

// PostgresFrom returns the URL of a new database that exists until the test
// ends, copied from a template database: the first call for key in this test
// binary makes the template and runs prepare on its URL (migrating it, say),
// every call copies it (CREATE DATABASE ... TEMPLATE), which is much cheaper
// than preparing each test's database anew. prepare must close its
// connections (Postgres copies no database that is in use). The template is
// dropped by the next test binary that finds this one gone.
func PostgresFrom(t testing.TB, key string, prepare func(ctx context.Context, url string) error) string {
	t.Helper()
	return sharedPostgres.copyOf(t, key, prepare)
}

func (s *postgresServer) copyOf(t testing.TB, key string, prepare func(ctx context.Context, url string) error) string {
	t.Helper()
	s.once.Do(s.find)
	if s.err != nil {
		t.Fatalf("testenv: no Postgres: %v", s.err)
	}
	s.mu.Lock()
	if s.templates == nil {
		s.templates = map[string]*template{}
	}
	tpl := s.templates[key]
	if tpl == nil {
		tpl = &template{}
		s.templates[key] = tpl
	}
	s.mu.Unlock()
	tpl.once.Do(func() { tpl.name, tpl.err = s.makeTemplate(prepare) })
	if tpl.err != nil {
		t.Fatalf("testenv: template database %q: %v", key, tpl.err)
	}
	return s.database(t, tpl.name)
}

// templatePrefix names this binary's templates: tidings_tpl_<pid>_<random>.
var templatePrefix = fmt.Sprintf("tidings_tpl_%d_", os.Getpid())

func (s *postgresServer) makeTemplate(prepare func(ctx context.Context, url string) error) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.dropStaleTemplates(ctx)
	name := RandomName(templatePrefix)
	if err := execAdmin(ctx, s.baseURL, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return "", err
	}
	if err := prepare(ctx, s.urlOf(name)); err != nil {
		return "", err
	}
	return name, nil
}

// dropStaleTemplates drops the templates of test binaries that have ended.
func (s *postgresServer) dropStaleTemplates(ctx context.Context) {
	conn, err := pgx.Connect(ctx, s.baseURL)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'tidings\_tpl\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		// tidings_tpl_<pid>_<random>
		parts := strings.Split(name, "_")
		if len(parts) < 4 {
			continue
		}
		pid, err := strconv.Atoi(parts[2])
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
}

func (s *postgresServer) urlOf(name string) string {
	u, _ := url.Parse(s.baseURL) // parsed fine in find
	u.Path = "/" + name
	return u.String()
}

func (s *postgresServer) database(t testing.TB, template string) string {
	t.Helper()
	s.once.Do(s.find)
	if s.err != nil {
		t.Fatalf("testenv: no Postgres: %v", s.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := RandomName("tidings_t_")
	s.mu.Lock()
	err := execAdmin(ctx, s.baseURL, "CREATE DATABASE "+name+" TEMPLATE "+template+" ENCODING 'UTF8'")
	s.mu.Unlock()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := execAdmin(ctx, s.baseURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop test database: %v", err)
		}
	})
	return s.urlOf(name)
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
