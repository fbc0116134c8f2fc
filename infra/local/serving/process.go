package serving

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// process is one running instance of a revision's binary (a "pod").
type process struct {
	cmd     *exec.Cmd
	addr    string // 127.0.0.1:<port>
	started time.Time
	output  *tailBuffer

	exited  chan struct{} // closed once the process is reaped
	exitErr error         // valid after exited is closed

	mu       sync.Mutex
	stopping bool          // we asked it to stop: its exit is expected
	unready  chan struct{} // non-nil while readiness fails; closed when it passes again
}

// unreadyCh is nil while the process passes its readiness probe, and
// otherwise a channel closed when it passes again.
func (p *process) unreadyCh() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unready == nil {
		return nil
	}
	return p.unready
}

// setReady records a readiness verdict and reports whether it changed.
func (p *process) setReady(ready bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case ready && p.unready != nil:
		close(p.unready)
		p.unready = nil
		return true
	case !ready && p.unready == nil:
		p.unready = make(chan struct{})
		return true
	}
	return false
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *process) markStopping() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
}

func (p *process) expectedExit() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping
}

// terminate sends SIGTERM to the process group, waits up to grace, then
// sends SIGKILL, and returns once the process is reaped (or ctx ends).
func (p *process) terminate(ctx context.Context, grace time.Duration) error {
	p.markStopping()
	if p.hasExited() {
		return nil
	}
	signalGroup(p.pid(), syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	signalGroup(p.pid(), syscall.SIGKILL)
	select {
	case <-p.exited:
		return ctx.Err()
	case <-time.After(5 * time.Second):
		return fmt.Errorf("pid %d did not exit after SIGKILL", p.pid())
	}
}

// signalGroup signals the process group led by pid, so children the
// function may have spawned go too.
func signalGroup(pid int, sig syscall.Signal) {
	if err := syscall.Kill(-pid, sig); err != nil {
		_ = syscall.Kill(pid, sig) // no group: the process alone; gone already is fine
	}
}

// launchSpec is everything needed to exec one process.
type launchSpec struct {
	binary string
	env    []string
	dir    string
	output io.Writer
	prefix string
}

// launch execs the binary on a free port and returns once it is started (not
// ready). onExit runs after the process is reaped.
func launch(spec launchSpec, onExit func(*process)) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(spec.binary)
	cmd.Env = append(spec.env, "PORT="+strconv.Itoa(port))
	cmd.Dir = spec.dir
	tail := &tailBuffer{max: 4 << 10}
	w := &lineWriter{prefix: spec.prefix, out: spec.output, tail: tail}
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.WaitDelay = 2 * time.Second // a grandchild holding the output pipe must not block Wait
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // our own group: Ctrl-C reaches the stack, which stops us in order
		Pdeathsig: syscall.SIGKILL, // never outlive the stack
	}
	p := &process{
		cmd:     cmd,
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		output:  tail,
		exited:  make(chan struct{}),
		started: time.Now(),
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", spec.binary, err)
	}
	go func() {
		p.exitErr = cmd.Wait()
		w.flush()
		close(p.exited)
		onExit(p)
	}()
	return p, nil
}

// waitReady runs the readiness probe until it passes, the process exits,
// or ctx ends. With no period set it probes aggressively, as queue-proxy
// does during a cold start (knative/serving pkg/queue/readiness/probe.go):
// a Go function is ready within tens of ms and every probe gap adds to the
// cold start. With a period, it probes on that schedule, as kubelet would.
func (p *process) waitReady(ctx context.Context, pr Probe) error {
	start := time.Now()
	delay := func() time.Duration {
		switch {
		case pr.Period > 0:
			return pr.Period
		case time.Since(start) < time.Second:
			return 2 * time.Millisecond
		}
		return 50 * time.Millisecond
	}
	if pr.InitialDelay > 0 {
		select {
		case <-time.After(pr.InitialDelay):
		case <-p.exited:
		case <-ctx.Done():
		}
	}
	var last error
	for {
		if last = p.probe(ctx, pr); last == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before becoming ready (%v); last output:\n%s", p.exitErr, p.output.String())
		case <-ctx.Done():
			return fmt.Errorf("not ready (last probe: %v): %v", last, context.Cause(ctx))
		case <-time.After(delay()):
		}
	}
}

// probe runs one probe: a GET that passes with any status from 200 to 399
// (knative/serving pkg/queue/health/probe.go, IsHTTPProbeReady, as kubelet's
// HTTP prober), or a TCP connect when the probe has no path.
func (p *process) probe(ctx context.Context, pr Probe) error {
	ctx, cancel := context.WithTimeout(ctx, pr.Timeout)
	defer cancel()
	if pr.Path == "" {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+pr.Path, nil)
	req.Header.Set("User-Agent", "kube-probe/1.33")
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return fmt.Errorf("GET %s answered %s", pr.Path, resp.Status)
	}
	return nil
}

// probeClient neither reuses connections (each probe is a fresh one, as
// kubelet's) nor follows redirects (a 3xx passes as it is).
var probeClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lineWriter prefixes each line of a process's output with "[name] " and
// keeps a tail of it for error messages.
type lineWriter struct {
	prefix string
	out    io.Writer
	tail   *tailBuffer

	mu      sync.Mutex
	pending []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.tail.Write(b)
	w.pending = append(w.pending, b...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			break
		}
		w.emit(w.pending[:i+1])
		w.pending = w.pending[i+1:]
	}
	if len(w.pending) > 16<<10 { // a very long line without newline: emit it anyway
		w.emit(append(w.pending, '\n'))
		w.pending = nil
	}
	return len(b), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) > 0 {
		w.emit(append(w.pending, '\n'))
		w.pending = nil
	}
}

// emit writes one whole line in a single Write so lines of different
// services do not interleave.
func (w *lineWriter) emit(line []byte) {
	buf := make([]byte, 0, len(w.prefix)+len(line))
	buf = append(buf, w.prefix...)
	buf = append(buf, line...)
	_, _ = w.out.Write(buf) // a log line that cannot be written is lost, nothing more
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

var errClosed = errors.New("service is stopped")

// baseEnv is what a process inherits from the stack: enough to run, not the
// stack's own configuration (a container does not see the node's env).
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "USER", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
