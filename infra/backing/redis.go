package backing

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// Redis is a private redis-server, or miniredis when the machine has no
// redis-server binary.
type Redis struct {
	addr string
	proc *child               // the redis-server child, or nil
	mini *miniredis.Miniredis // the in-process fallback, or nil
}

// StartRedis runs redis-server (from PATH) on 127.0.0.1:port with an
// append-only file in dataDir, and waits until it answers PING. Without a
// redis-server binary it falls back to in-process miniredis, which keeps
// data in memory only, and says so.
func StartRedis(ctx context.Context, dataDir string, port int, progress Progress) (*Redis, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := ensurePortFree("redis", addr); err != nil {
		return nil, err
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return startMiniredis(addr, progress)
	}
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("redis: create data dir: %w", err)
	}
	progress.say("redis: starting redis-server on " + addr)
	proc, err := startChild(childSpec{
		name: "redis",
		path: bin,
		args: []string{
			"--bind", "127.0.0.1",
			"--port", strconv.Itoa(port),
			"--dir", dataDir,
			"--appendonly", "yes",
			"--save", "", // the append-only file is the persistence; no RDB snapshots
			"--daemonize", "no",
			"--logfile", "", // log to stdout, which we capture
		},
		dir:        dataDir,
		logPath:    filepath.Join(dataDir, "redis.log"),
		stopSignal: syscall.SIGTERM, // redis flushes the AOF and exits
	})
	if err != nil {
		return nil, err
	}
	r := &Redis{addr: addr, proc: proc}
	ping := func(ctx context.Context) error { return redisPing(ctx, addr) }
	if err := proc.waitReady(ctx, 30*time.Second, ping); err != nil {
		return nil, err
	}
	progress.say("redis: ready on " + addr)
	return r, nil
}

func startMiniredis(addr string, progress Progress) (*Redis, error) {
	slog.Warn("redis: no redis-server binary on PATH, using in-process miniredis (data is not kept across restarts)")
	progress.say("redis: no redis-server found, using miniredis on " + addr + " (in memory only)")
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(addr); err != nil {
		return nil, fmt.Errorf("redis: start miniredis on %s: %w", addr, err)
	}
	return &Redis{addr: addr, mini: m}, nil
}

// redisPing speaks RESP by hand: a go-redis client would log every refused
// dial while the server is still starting. "-LOADING" (AOF replay) counts
// as not ready yet.
func redisPing(ctx context.Context, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// URL is a go-redis URL for database 0.
func (r *Redis) URL() string { return "redis://" + r.addr + "/0" }

// Addr is host:port.
func (r *Redis) Addr() string { return r.addr }

// Embedded reports whether this is the miniredis fallback.
func (r *Redis) Embedded() bool { return r.mini != nil }

// Stop shuts redis down; redis-server writes its append-only file first.
func (r *Redis) Stop(ctx context.Context) error {
	if r.mini != nil {
		r.mini.Close()
		return nil
	}
	return r.proc.stop(ctx)
}
