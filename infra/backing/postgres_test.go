package backing

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPostgresStartsAndKeepsDataAcrossRestart(t *testing.T) {
	if _, err := findPostgresBinaries(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := serviceTempDir(t)

	var lines []string
	pg, err := StartPostgres(ctx, dir, freePort(t), func(m string) { lines = append(lines, m) })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "initdb") {
		t.Errorf("first start should report initdb, progress was %q", lines)
	}
	if !strings.HasSuffix(strings.SplitN(pg.URL(), "?", 2)[0], "/tidings") {
		t.Errorf("URL %q should name the tidings database", pg.URL())
	}
	execSQL(t, ctx, pg.URL(), "CREATE TABLE notes (body text)", "INSERT INTO notes VALUES ('kept')")

	// While it runs, a second server on the same cluster must fail cleanly.
	if _, err := StartPostgres(ctx, dir, freePort(t), nil); err == nil {
		t.Fatal("second server on the same data dir started")
	} else {
		t.Logf("second server refused as expected: %v", err)
	}

	stopCtx, stopCancel := context.WithTimeout(ctx, 30*time.Second)
	defer stopCancel()
	if err := pg.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, pg.URL()); err == nil {
		t.Fatal("server still accepts connections after Stop")
	}

	lines = nil
	pg2, err := StartPostgres(ctx, dir, freePort(t), func(m string) { lines = append(lines, m) })
	if err != nil {
		t.Fatal(err)
	}
	defer pg2.Stop(context.Background())
	if strings.Contains(strings.Join(lines, "\n"), "initdb") {
		t.Errorf("restart ran initdb again: %q", lines)
	}
	conn, err := pgx.Connect(ctx, pg2.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var body, enc string
	if err := conn.QueryRow(ctx, "SELECT body, pg_encoding_to_char(encoding) FROM notes, pg_database WHERE datname = current_database()").Scan(&body, &enc); err != nil {
		t.Fatal(err)
	}
	if body != "kept" || enc != "UTF8" {
		t.Fatalf("after restart got body %q encoding %q", body, enc)
	}
}

func TestPostgresBadConfigFailsWithLogTail(t *testing.T) {
	if _, err := findPostgresBinaries(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := serviceTempDir(t)
	pg, err := StartPostgres(ctx, dir, freePort(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "pgdata", "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nshared_buffers = 'not a size'\n")
	f.Close()

	port := freePort(t)
	_, err = StartPostgres(ctx, dir, port, nil)
	if err == nil {
		t.Fatal("server with a broken config started")
	}
	t.Logf("broken config refused as expected: %v", err)
	if !strings.Contains(err.Error(), "shared_buffers") {
		t.Fatalf("error should quote the server's log about shared_buffers, got:\n%v", err)
	}
	// The failed child must be gone: its port is free again.
	ln, lerr := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if lerr != nil {
		t.Fatalf("port still busy after failed start: %v", lerr)
	}
	ln.Close()
}

func TestPostgresBusyPort(t *testing.T) {
	if _, err := findPostgresBinaries(); err != nil {
		t.Skip(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = StartPostgres(context.Background(), serviceTempDir(t), ln.Addr().(*net.TCPAddr).Port, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot listen") {
		t.Fatalf("want a port-in-use error, got %v", err)
	}
}

func execSQL(t *testing.T, ctx context.Context, url string, stmts ...string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestUntraversableParentFindsTheBlockingDir(t *testing.T) {
	root := serviceTempDir(t)
	locked := filepath.Join(root, "locked")
	data := filepath.Join(locked, "inner", "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	const stranger = 54321 // a uid/gid that owns nothing here
	if got := untraversableParent(data, stranger, stranger); got != locked {
		t.Fatalf("blocking dir = %q, want %q", got, locked)
	}
	os.Chmod(locked, 0o711)
	if got := untraversableParent(data, stranger, stranger); got != "" {
		t.Fatalf("after chmod o+x still blocked at %q", got)
	}
}
