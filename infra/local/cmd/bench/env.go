package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/infra/local/stack"
)

// scratchDatabase creates tidings_bench_<random> on the server of serverURL
// and returns its URL and a function that drops it again.
func scratchDatabase(ctx context.Context, serverURL string) (string, func(), error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("%q is not a postgres:// URL", serverURL)
	}
	b := make([]byte, 5)
	rand.Read(b) //nolint:errcheck // never fails
	name := "tidings_bench_" + hex.EncodeToString(b)
	if err := adminExec(ctx, serverURL, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, serverURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v (drop it by hand)\n", err)
		}
	}
	return u.String(), drop, nil
}

func adminExec(ctx context.Context, serverURL, sql string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("postgres %s: %w", serverURL, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// freePorts picks a free loopback port for every listener of the stack. The
// backing servers are started on the port number they are given, so 0 would
// not do for them.
func freePorts() (stack.Ports, error) {
	var p stack.Ports
	for _, field := range p.All() {
		n, err := freePort()
		if err != nil {
			return p, err
		}
		*field = n
	}
	return p, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// workDir is a run's temporary directory with a log file for the functions'
// output; cleanup removes it unless the run failed (then it is kept for
// reading).
type workDir struct {
	dir string
	log *os.File
}

func newWorkDir(prefix string, verbose bool) (*workDir, io.Writer, error) {
	dir, err := os.MkdirTemp("", "tidings-bench-"+prefix+"-")
	if err != nil {
		return nil, nil, err
	}
	// A private Postgres runs as a service account, which must reach its
	// data dir inside this one.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.Create(filepath.Join(dir, "functions.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	var out io.Writer = f
	if verbose {
		out = io.MultiWriter(f, os.Stderr)
	}
	return &workDir{dir: dir, log: f}, out, nil
}

func (w *workDir) cleanup(failed bool) {
	w.log.Close()
	if failed {
		fmt.Fprintf(os.Stderr, "bench: kept %s (function logs in functions.log)\n", w.dir)
		return
	}
	os.RemoveAll(w.dir)
}

// machineStack is the whole local stack on the machine's Postgres (a
// scratch database) and Redis, with its own kfake broker and mail catcher.
type machineStack struct {
	*stack.Stack
	upTook time.Duration
	dbURL  string // the scratch database the functions use
	wd     *workDir
	drop   func()
	failed bool
}

// upOnMachine brings the stack up for one benchmark; close takes it down,
// drops the scratch database and removes the work dir unless fail was
// called (or ok never was).
func upOnMachine(ctx context.Context, repo, name string, o options) (*machineStack, error) {
	wd, fnOut, err := newWorkDir(name, o.verbose)
	if err != nil {
		return nil, err
	}
	m := &machineStack{wd: wd, drop: func() {}, failed: true}
	dbURL, drop, err := scratchDatabase(ctx, o.postgres)
	if err != nil {
		m.close(ctx)
		return nil, err
	}
	m.drop, m.dbURL = drop, dbURL
	ports, err := freePorts()
	if err != nil {
		m.close(ctx)
		return nil, err
	}
	env := map[string]string{
		"DATABASE_URL": dbURL,
		"REDIS_URL":    o.redis,
		// No benchmark here uploads; no MinIO is needed.
		"S3_ENDPOINT": "http://127.0.0.1:9", "S3_ACCESS_KEY": "unused", "S3_SECRET_KEY": "unused",
		// KAFKA_BROKERS and SMTP_ADDR unset: the stack runs its own kfake
		// broker and mail catcher.

		// Every simulated person signs up and befriends from 127.0.0.1: the
		// per-address and per-account limits would measure themselves.
		"SIGNUPS_PER_HOUR": "1000000", "FRIEND_REQUESTS_PER_HOUR": "1000000",
		// Tracing as the bench's caller says: unset, the stack runs Jaeger and
		// every span is exported; OTEL_TRACES_EXPORTER=none measures without.
		"OTEL_TRACES_EXPORTER": os.Getenv("OTEL_TRACES_EXPORTER"),
	}
	fmt.Fprintln(os.Stderr, "starting the stack…")
	upStart := time.Now()
	s, err := stack.Up(ctx, stack.Options{
		RepoDir: repo, DataDir: wd.dir, Ports: ports,
		Env:      func(k string) string { return env[k] },
		Progress: os.Stderr, FunctionOutput: fnOut, Logger: quietLogger(),
	})
	if err != nil {
		m.close(ctx)
		return nil, err
	}
	m.Stack, m.upTook = s, time.Since(upStart)
	return m, nil
}

// ok marks the run good: its work dir is removed on close.
func (m *machineStack) ok() { m.failed = false }

func (m *machineStack) close(ctx context.Context) {
	if m.Stack != nil {
		m.Stack.Close(context.WithoutCancel(ctx))
	}
	m.drop()
	m.wd.cleanup(m.failed)
}
