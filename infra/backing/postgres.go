package backing

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresDatabase is the database the stack's functions use.
const PostgresDatabase = "tidings"

// Postgres is a private PostgreSQL server run from the machine's binaries.
type Postgres struct {
	port   int
	pgdata string
	proc   *child
}

// StartPostgres runs a private PostgreSQL on 127.0.0.1:port with its cluster
// in dataDir/pgdata (created with initdb on first run: UTF8, trust auth,
// which is safe because it listens on loopback and a socket inside the data
// dir only). It waits until the server accepts connections and creates the
// tidings database if it is missing.
func StartPostgres(ctx context.Context, dataDir string, port int, progress Progress) (*Postgres, error) {
	binDir, err := findPostgresBinaries()
	if err != nil {
		return nil, err
	}
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := ensurePortFree("postgres", addr); err != nil {
		return nil, err
	}
	pgdata := filepath.Join(dataDir, "pgdata")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("postgres: create data dir: %w", err)
	}

	// PostgreSQL refuses to run as root: drop to a service account and give
	// it the data dir.
	cred, owner, err := postgresCredential(dataDir)
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := chownTree(dataDir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("postgres: give %s to user %s: %w", dataDir, owner, err)
		}
	}

	logPath := filepath.Join(dataDir, "postgres.log")
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		progress.say("postgres: initdb (first run)…")
		if err := initdb(ctx, binDir, pgdata, logPath, cred); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}

	progress.say("postgres: starting on " + addr)
	proc, err := startChild(childSpec{
		name: "postgres",
		path: filepath.Join(binDir, "postgres"),
		args: []string{
			"-D", pgdata,
			"-p", strconv.Itoa(port),
			"-c", "listen_addresses=127.0.0.1",
			"-c", "unix_socket_directories=" + pgdata,
			"-c", "logging_collector=off",
		},
		dir:        dataDir,
		logPath:    logPath,
		cred:       cred,
		stopSignal: syscall.SIGINT, // "fast" shutdown: roll back open transactions, checkpoint, exit
	})
	if err != nil {
		return nil, err
	}
	pg := &Postgres{port: port, pgdata: pgdata, proc: proc}
	ping := func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, pg.urlFor("postgres"))
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		return conn.Ping(ctx)
	}
	if err := proc.waitReady(ctx, 60*time.Second, ping); err != nil {
		return nil, err
	}
	if err := pg.ensureDatabase(ctx, PostgresDatabase); err != nil {
		_ = proc.stop(context.Background())
		return nil, proc.failure(err)
	}
	progress.say("postgres: ready on " + addr)
	return pg, nil
}

// URL is a pgx connection URL for the tidings database.
func (p *Postgres) URL() string { return p.urlFor(PostgresDatabase) }

// Port is the TCP port the server listens on.
func (p *Postgres) Port() int { return p.port }

func (p *Postgres) urlFor(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// Stop asks for a fast shutdown and waits for it.
func (p *Postgres) Stop(ctx context.Context) error { return p.proc.stop(ctx) }

func (p *Postgres) ensureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, p.urlFor("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func initdb(ctx context.Context, binDir, pgdata, logPath string, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
		"-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = filepath.Dir(pgdata)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if f, ferr := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); ferr == nil {
		fmt.Fprintf(f, "---- initdb at %s\n%s", time.Now().Format(time.RFC3339), out)
		f.Close()
	}
	if err != nil {
		// Leave no half-made cluster behind: the next start would skip initdb.
		_ = os.RemoveAll(pgdata)
		return fmt.Errorf("postgres: initdb failed: %w\n--- initdb output ---\n%s", err, lastLines(string(out), 20))
	}
	return nil
}

// findPostgresBinaries returns the directory holding postgres and initdb:
// from PATH when both are there, else the newest /usr/lib/postgresql/*/bin
// (Debian and Ubuntu keep the server binaries off PATH).
func findPostgresBinaries() (string, error) {
	if p, err := exec.LookPath("postgres"); err == nil {
		if i, err := exec.LookPath("initdb"); err == nil {
			// Resolve symlinks so both come from the same installation.
			rp, _ := filepath.EvalSymlinks(p)
			ri, _ := filepath.EvalSymlinks(i)
			if rp != "" && filepath.Dir(rp) == filepath.Dir(ri) {
				return filepath.Dir(rp), nil
			}
			if filepath.Dir(p) == filepath.Dir(i) {
				return filepath.Dir(p), nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	type versioned struct {
		dir string
		v   float64
	}
	var found []versioned
	for _, d := range dirs {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		if err != nil {
			continue
		}
		if isExecutable(filepath.Join(d, "postgres")) && isExecutable(filepath.Join(d, "initdb")) {
			found = append(found, versioned{d, v})
		}
	}
	if len(found) == 0 {
		return "", errors.New("postgres: no server binaries found (postgres and initdb on PATH or in /usr/lib/postgresql/*/bin); install PostgreSQL or set DATABASE_URL")
	}
	sort.Slice(found, func(i, j int) bool { return found[i].v > found[j].v })
	return found[0].dir, nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// postgresCredential returns nil when we are not root. As root it returns
// the credential of the postgres system user (or nobody), after checking
// that this user can reach dataDir at all.
func postgresCredential(dataDir string) (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		return nil, "", nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, "", errors.New("postgres: running as root but neither a postgres nor a nobody user exists to run the server as")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if blocked := untraversableParent(dataDir, uid, gid); blocked != "" {
		return nil, "", fmt.Errorf("postgres: the server runs as user %s (we are root), but %s does not let that user through to %s; allow it (chmod o+x %s) or use another data dir", u.Username, blocked, dataDir, blocked)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, u.Username, nil
}

// untraversableParent returns the first ancestor of dir that uid/gid cannot
// search, or "".
func untraversableParent(dir string, uid, gid int) string {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err == nil {
			sys, ok := st.Sys().(*syscall.Stat_t)
			mode := st.Mode().Perm()
			var can bool
			switch {
			case !ok:
				can = true
			case int(sys.Uid) == uid:
				can = mode&0o100 != 0
			case int(sys.Gid) == gid:
				can = mode&0o010 != 0
			default:
				can = mode&0o001 != 0
			}
			if !can {
				return p
			}
		}
		if p == filepath.Dir(p) {
			return ""
		}
	}
}

func chownTree(root string, uid, gid int) error {
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
