package backing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// childSpec describes a server process we supervise.
type childSpec struct {
	name       string // short service name used in errors ("postgres")
	path       string
	args       []string
	env        []string // added to the parent's environment
	dir        string
	logPath    string // the child's stdout+stderr are appended here
	cred       *syscall.Credential
	stopSignal syscall.Signal // graceful stop; also sent if the parent dies
}

// child is a running server process. Its output goes to a log file and to an
// in-memory tail so a failed start can say what the server said.
type child struct {
	spec    childSpec
	cmd     *exec.Cmd
	logFile *os.File
	tail    *tailBuffer
	done    chan struct{}
	waitErr error
}

func startChild(spec childSpec) (*child, error) {
	if err := os.MkdirAll(filepath.Dir(spec.logPath), 0o755); err != nil {
		return nil, fmt.Errorf("%s: create log dir: %w", spec.name, err)
	}
	logFile, err := os.OpenFile(spec.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open log: %w", spec.name, err)
	}
	fmt.Fprintf(logFile, "---- %s starting at %s: %s %s\n", spec.name, time.Now().Format(time.RFC3339), spec.path, strings.Join(spec.args, " "))

	tail := newTailBuffer(16 << 10)
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Dir = spec.dir
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Stdout = io.MultiWriter(logFile, tail)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = sysProcAttr(spec.stopSignal, spec.cred)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%s: start %s: %w", spec.name, spec.path, err)
	}
	c := &child{spec: spec, cmd: cmd, logFile: logFile, tail: tail, done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	return c, nil
}

// waitReady polls check until it succeeds. If the child exits, ctx ends or
// timeout passes first, the child is killed and the error says why, with the
// tail of the child's log.
// answers200 is a readiness check: a GET of url answers 200.
func answers200(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %s", url, resp.Status)
		}
		return nil
	}
}

func (c *child) waitReady(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		checkCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		lastErr = check(checkCtx)
		cancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-c.done:
			return c.failure(fmt.Errorf("exited before it was ready (%v)", c.waitErr))
		case <-ctx.Done():
			c.kill()
			return c.failure(fmt.Errorf("start cancelled: %w (last check: %v)", ctx.Err(), lastErr))
		case <-deadline.C:
			c.kill()
			return c.failure(fmt.Errorf("not ready after %s: %w", timeout, lastErr))
		case <-tick.C:
		}
	}
}

// failure wraps err with the service name and the last lines of its log.
func (c *child) failure(err error) error {
	return fmt.Errorf("%s: %w\n--- last lines of %s ---\n%s", c.spec.name, err, c.spec.logPath, c.tail.lastLines(20))
}

// stop asks the child to stop with its graceful signal and waits; when ctx
// ends first the child is killed.
func (c *child) stop(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	if err := c.cmd.Process.Signal(c.spec.stopSignal); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: signal: %w", c.spec.name, err)
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		c.kill()
		return fmt.Errorf("%s: did not stop in time, killed: %w", c.spec.name, ctx.Err())
	}
}

// kill ends the child and anything it started (it leads its own process
// group) at once, and waits for it to be reaped.
func (c *child) kill() {
	killGroup(c.cmd.Process)
	<-c.done
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(t.buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, "\n")
	if strings.TrimSpace(out) == "" {
		return "(no output)"
	}
	return out
}

// ensurePortFree gives a clear error when something already listens on addr,
// instead of letting the server fail with its own less obvious message.
func ensurePortFree(service, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: cannot listen on %s (is another server using it?): %w", service, addr, err)
	}
	return ln.Close()
}
