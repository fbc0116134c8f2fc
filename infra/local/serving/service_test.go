package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tidings-dev/tidings/infra/testenv"
)

const helloImport = "ko://github.com/tidings-dev/tidings/infra/local/serving/testdata/hello"

var helloBinary string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "serving-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		helloBinary, err = Build(ctx, BuildConfig{ImportPath: helloImport, OutDir: dir, ModuleDir: moduleDir()})
		if err != nil {
			fmt.Fprintln(os.Stderr, "build test binary:", err)
			return 1
		}
		return m.Run()
	}())
}

// moduleDir finds the repository root (the directory holding go.mod).
// moduleDir is the directory of the Go module these tests are in (infra/local).
func moduleDir() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("go.mod not found")
		}
		dir = parent
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writers a Service has.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	svc    *Service
	server *httptest.Server
	logs   *syncBuffer
	output *syncBuffer
}

// start runs a Service for the hello binary behind a real HTTP server.
func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{logs: &syncBuffer{}, output: &syncBuffer{}}
	if cfg.Name == "" {
		cfg.Name = "hello"
	}
	cfg.Binary = helloBinary
	if cfg.Readiness.Path == "" {
		cfg.Readiness.Path = "/healthz"
	}
	cfg.Output = h.output
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.StopGracePeriod == 0 {
		cfg.StopGracePeriod = 2 * time.Second
	}
	h.svc = New(cfg)
	h.server = httptest.NewServer(h.svc)
	t.Cleanup(func() {
		h.server.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if t.Failed() {
			t.Logf("logs:\n%s\nprocess output:\n%s", h.logs, h.output)
		}
	})
	return h
}

func (h *harness) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(h.server.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

type envReply struct {
	Pid int               `json:"pid"`
	Env map[string]string `json:"env"`
}

func (h *harness) env(t *testing.T) envReply {
	t.Helper()
	status, body := h.get(t, "/env")
	if status != http.StatusOK {
		t.Fatalf("GET /env: %d %s", status, body)
	}
	var r envReply
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("decode /env: %v: %s", err, body)
	}
	return r
}

type statsReply struct {
	Inflight    int `json:"inflight"`
	MaxInflight int `json:"max_inflight"`
	Pid         int `json:"pid"`
}

// direct calls the process itself, bypassing the proxy and its limits.
func (h *harness) direct(t *testing.T, path string) string {
	t.Helper()
	addr := h.svc.Addr()
	if addr == "" {
		t.Fatalf("direct %s: no process running", path)
	}
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("direct GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func (h *harness) stats(t *testing.T) statsReply {
	t.Helper()
	var s statsReply
	if err := json.Unmarshal([]byte(h.direct(t, "/stats")), &s); err != nil {
		t.Fatalf("decode /stats: %v", err)
	}
	return s
}

// tryStats is stats for polling while a process may be coming or going.
func (h *harness) tryStats() (statsReply, bool) {
	var s statsReply
	addr := h.svc.Addr()
	if addr == "" {
		return s, false
	}
	resp, err := http.Get("http://" + addr + "/stats")
	if err != nil {
		return s, false
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s) == nil
}

// processGone reports whether pid no longer exists, zombies included.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestColdStartOnFirstRequest(t *testing.T) {
	h := start(t, Config{})
	if got := h.svc.State(); got != StateStopped {
		t.Fatalf("state before any request = %s, want stopped", got)
	}
	if h.svc.Addr() != "" {
		t.Fatalf("Addr before any request = %q, want empty", h.svc.Addr())
	}

	resp, err := http.Post(h.server.URL+"/echo", "text/plain", strings.NewReader("ping"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ping" {
		t.Fatalf("POST /echo = %d %q, want 200 \"ping\"", resp.StatusCode, body)
	}
	if got := h.svc.State(); got != StateRunning {
		t.Fatalf("state after request = %s, want running", got)
	}
	cs := h.svc.ColdStarts()
	if len(cs) != 1 || cs[0] <= 0 {
		t.Fatalf("ColdStarts = %v, want one positive duration", cs)
	}
	if !strings.Contains(h.logs.String(), "msg=\"cold start\"") || !strings.Contains(h.logs.String(), "duration_ms=") {
		t.Fatalf("no cold start log line with duration_ms:\n%s", h.logs)
	}

	// A second request reuses the process.
	if status, _ := h.get(t, "/healthz"); status != http.StatusOK {
		t.Fatalf("second request = %d", status)
	}
	if n := len(h.svc.ColdStarts()); n != 1 {
		t.Fatalf("cold starts after a warm request = %d, want 1", n)
	}
}

func TestConcurrentFirstRequestsShareOneStart(t *testing.T) {
	h := start(t, Config{})
	const n = 12
	pids := make(chan int, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := http.Get(h.server.URL + "/env")
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var r envReply
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				errs <- fmt.Errorf("status %d: %w", resp.StatusCode, err)
				return
			}
			pids <- r.Pid
		})
	}
	wg.Wait()
	close(errs)
	close(pids)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for pid := range pids {
		seen[pid] = true
	}
	if len(seen) != 1 {
		t.Fatalf("requests were served by %d processes %v, want 1", len(seen), seen)
	}
	if got := len(h.svc.ColdStarts()); got != 1 {
		t.Fatalf("cold starts = %d, want 1", got)
	}
}

func TestScaleToZeroAfterIdleThenColdStartAgain(t *testing.T) {
	h := start(t, Config{IdleTimeout: 200 * time.Millisecond})
	first := h.env(t)

	testenv.Eventually(t, 15*time.Second, "scale to zero", func() bool { return h.svc.State() == StateStopped })
	if !strings.Contains(h.logs.String(), "scaled to zero") {
		t.Fatalf("no 'scaled to zero' log line:\n%s", h.logs)
	}
	testenv.Eventually(t, 15*time.Second, "idle process to exit", func() bool { return processGone(first.Pid) })
	if h.svc.Addr() != "" {
		t.Fatalf("Addr after scale to zero = %q, want empty", h.svc.Addr())
	}

	second := h.env(t)
	if second.Pid == first.Pid {
		t.Fatalf("request after scale to zero served by the old pid %d", first.Pid)
	}
	if got := len(h.svc.ColdStarts()); got != 2 {
		t.Fatalf("cold starts = %d, want 2", got)
	}
}

func TestConcurrencyLimitRespected(t *testing.T) {
	h := start(t, Config{ContainerConcurrency: 2})
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := http.Get(h.server.URL + "/slow?d=100ms")
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("a queued request got %d, want 200", s)
		}
	}
	// The binary counts its own requests in flight: never above the limit,
	// and the limit was reached (so requests did run side by side).
	if got := h.stats(t).MaxInflight; got != 2 {
		t.Fatalf("max requests in flight inside the process = %d, want 2", got)
	}
}

func TestQueueOverflowGets503(t *testing.T) {
	h := start(t, Config{ContainerConcurrency: 1, QueueDepth: 1})
	if err := h.svc.EnsureRunning(context.Background()); err != nil {
		t.Fatal(err)
	}
	holder := make(chan int, 1)
	go func() {
		resp, err := http.Get(h.server.URL + "/hold")
		if err != nil {
			holder <- 0
			return
		}
		resp.Body.Close()
		holder <- resp.StatusCode
	}()
	testenv.Eventually(t, 15*time.Second, "first request to hold the only slot", func() bool { return h.stats(t).Inflight == 1 })

	queued := make(chan int, 1)
	go func() {
		resp, err := http.Get(h.server.URL + "/healthz")
		if err != nil {
			queued <- 0
			return
		}
		resp.Body.Close()
		queued <- resp.StatusCode
	}()
	testenv.Eventually(t, 15*time.Second, "second request to wait in the queue", func() bool {
		h.svc.mu.Lock()
		defer h.svc.mu.Unlock()
		return h.svc.waiting == 1
	})

	status, body := h.get(t, "/healthz")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "overloaded") {
		t.Fatalf("request beyond the queue = %d %s, want 503 overloaded", status, body)
	}

	h.direct(t, "/release")
	if s := <-holder; s != http.StatusOK {
		t.Fatalf("holding request = %d, want 200", s)
	}
	if s := <-queued; s != http.StatusOK {
		t.Fatalf("queued request = %d, want 200", s)
	}
}

func TestRequestTimeoutGives504(t *testing.T) {
	h := start(t, Config{Timeout: 300 * time.Millisecond})
	status, body := h.get(t, "/slow?d=30s")
	if status != http.StatusGatewayTimeout {
		t.Fatalf("slow request = %d %s, want 504", status, body)
	}
	if !strings.Contains(body, `"status":504`) {
		t.Fatalf("504 body is not problem+json: %s", body)
	}
	// The function sees its request cancelled, and keeps serving.
	testenv.Eventually(t, 15*time.Second, "slow handler to be cancelled", func() bool { return h.stats(t).Inflight == 0 })
	if status, _ := h.get(t, "/healthz"); status != http.StatusOK {
		t.Fatalf("request after a timeout = %d, want 200", status)
	}
}

func TestStreamingResponseIsNotBuffered(t *testing.T) {
	h := start(t, Config{Timeout: 5 * time.Second})
	resp, err := http.Get(h.server.URL + "/partial")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufioReader(resp.Body)
	// The handler is still blocked: the first line can only be here if the
	// proxy flushed it through.
	line, err := r.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	h.direct(t, "/release")
	rest, _ := io.ReadAll(r)
	if string(rest) != "second\n" {
		t.Fatalf("rest = %q, want \"second\\n\"", rest)
	}
}

func TestCrashedProcessIsRestartedOnNextRequest(t *testing.T) {
	h := start(t, Config{})
	first := h.env(t)
	status, _ := h.get(t, "/crash")
	if status != http.StatusBadGateway {
		t.Fatalf("request that crashed the process = %d, want 502", status)
	}
	testenv.Eventually(t, 15*time.Second, "crash to be noticed", func() bool { return h.svc.State() == StateStopped })
	if !strings.Contains(h.logs.String(), "process exited unexpectedly") {
		t.Fatalf("crash not logged:\n%s", h.logs)
	}
	if !strings.Contains(h.output.String(), "[hello] hello: crashing on request") {
		t.Fatalf("process stderr not captured with prefix:\n%s", h.output)
	}
	second := h.env(t)
	if second.Pid == first.Pid || !processGone(first.Pid) {
		t.Fatalf("after crash: pid %d → %d, old gone=%v", first.Pid, second.Pid, processGone(first.Pid))
	}
	if got := len(h.svc.ColdStarts()); got != 2 {
		t.Fatalf("cold starts = %d, want 2", got)
	}
}

func TestEnvironmentPassedToProcess(t *testing.T) {
	h := start(t, Config{
		Name:       "signup",
		KoDataPath: "/srv/kodata",
		Env: map[string]string{
			"K_SINK":       "http://127.0.0.1:8081/tidings/users",
			"DATABASE_URL": "postgres://x@127.0.0.1/test",
			"PORT":         "1", // reserved: must not win over the real port
			"K_SERVICE":    "impostor",
		},
	})
	got := h.env(t)
	_, port, _ := net.SplitHostPort(h.svc.Addr())
	want := map[string]string{
		"PORT":            port,
		"K_SERVICE":       "signup",
		"K_CONFIGURATION": "signup",
		"K_REVISION":      "signup-00001",
		"KO_DATA_PATH":    "/srv/kodata",
		"K_SINK":          "http://127.0.0.1:8081/tidings/users",
		"DATABASE_URL":    "postgres://x@127.0.0.1/test",
	}
	for k, v := range want {
		if got.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Env[k], v)
		}
	}
	if !strings.Contains(h.output.String(), "[signup] hello listening on :"+port+"\n") {
		t.Errorf("stdout not captured with [signup] prefix:\n%s", h.output)
	}
	if !strings.Contains(h.logs.String(), "ignoring reserved env var") {
		t.Errorf("reserved env var silently accepted:\n%s", h.logs)
	}
}

func TestWebSocketThroughProxyKeepsProcessUp(t *testing.T) {
	const idle = 150 * time.Millisecond
	h := start(t, Config{IdleTimeout: idle, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := dialWS(t, ctx, h.server.URL)
	echo(t, ctx, conn, "hello")

	// Longer than the idle timeout: an open WebSocket is a request in
	// flight, so the process stays.
	time.Sleep(4 * idle)
	if got := h.svc.State(); got != StateRunning {
		t.Fatalf("state with an open WebSocket = %s, want running", got)
	}
	echo(t, ctx, conn, "still here")

	conn.Close(websocket.StatusNormalClosure, "")
	testenv.Eventually(t, 15*time.Second, "scale to zero after the WebSocket closed", func() bool { return h.svc.State() == StateStopped })
}

// timeoutSeconds ends an upgraded connection as queue-proxy does: the
// client sees the WebSocket close (the web app then reconnects).
func TestWebSocketClosedAtRequestTimeout(t *testing.T) {
	const timeout = 400 * time.Millisecond
	h := start(t, Config{Timeout: timeout})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opened := time.Now()
	conn := dialWS(t, ctx, h.server.URL)
	defer conn.CloseNow()
	echo(t, ctx, conn, "before the deadline")
	_, _, err := conn.Read(ctx) // the function never sends unprompted
	if err == nil || ctx.Err() != nil {
		t.Fatalf("read after the deadline = %v (ctx %v), want the connection closed", err, ctx.Err())
	}
	if open := time.Since(opened); open < timeout {
		t.Fatalf("closed after %s, before the %s timeout", open, timeout)
	}
	testenv.Eventually(t, 15*time.Second, "the function to see its WebSocket end", func() bool {
		s, ok := h.tryStats()
		return ok && s.Inflight == 0
	})
}

func dialWS(t *testing.T, ctx context.Context, base string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial through proxy: %v", err)
	}
	return conn
}

func echo(t *testing.T, ctx context.Context, conn *websocket.Conn, msg string) {
	t.Helper()
	if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	_, got, err := conn.Read(ctx)
	if err != nil || string(got) != "echo: "+msg {
		t.Fatalf("read = %q, %v", got, err)
	}
}

func TestNeverReadyGives503AndLeavesNoProcess(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	h := start(t, Config{
		StartTimeout: 500 * time.Millisecond,
		Env:          map[string]string{"HELLO_NEVER_READY": "1", "HELLO_PID_FILE": pidFile},
	})
	status, body := h.get(t, "/echo")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("request to a never-ready service = %d %s, want 503", status, body)
	}
	if !strings.Contains(body, "not ready") || !strings.Contains(body, "503") {
		t.Fatalf("503 does not say why: %s", body)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(raw))
	if !processGone(pid) {
		t.Fatalf("process %d still exists (running or zombie) after a failed start", pid)
	}
	if got := h.svc.State(); got != StateStopped {
		t.Fatalf("state = %s, want stopped", got)
	}
	if n := len(h.svc.ColdStarts()); n != 0 {
		t.Fatalf("a failed start was recorded as a cold start: %d", n)
	}
}

func TestExitAtStartReportsOutput(t *testing.T) {
	h := start(t, Config{Env: map[string]string{"HELLO_EXIT_AT_START": "1"}})
	status, body := h.get(t, "/echo")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "refusing to start") {
		t.Fatalf("request to a crashing binary = %d %s, want 503 with its output", status, body)
	}
}

func TestMinScaleStartsEagerlyAndRestarts(t *testing.T) {
	h := start(t, Config{MinScale: 1, IdleTimeout: 100 * time.Millisecond})
	testenv.Eventually(t, 15*time.Second, "eager start", func() bool { return h.svc.State() == StateRunning })
	first := h.stats(t).Pid

	time.Sleep(300 * time.Millisecond) // three idle timeouts
	if got := h.svc.State(); got != StateRunning {
		t.Fatalf("min-scale 1 service state after idling = %s, want running", got)
	}

	resp, err := http.Get("http://" + h.svc.Addr() + "/crash")
	if err == nil {
		resp.Body.Close()
	}
	testenv.Eventually(t, 15*time.Second, "restart after crash", func() bool {
		st, ok := h.tryStats()
		return ok && st.Pid != first
	})
	if len(h.svc.ColdStarts()) != 2 {
		t.Fatalf("cold starts = %d, want 2", len(h.svc.ColdStarts()))
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	h := start(t, Config{
		StopGracePeriod: 200 * time.Millisecond,
		Env:             map[string]string{"HELLO_IGNORE_SIGTERM": "1"},
	})
	pid := h.env(t).Pid
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.svc.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !processGone(pid) {
		t.Fatalf("process %d ignoring SIGTERM survived Stop", pid)
	}
	status, _ := h.get(t, "/env")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("request after Stop = %d, want 503", status)
	}
	if h.svc.State() != StateStopped {
		t.Fatalf("state after Stop = %s", h.svc.State())
	}
}

func TestGracefulStopUsesSIGTERM(t *testing.T) {
	h := start(t, Config{StopGracePeriod: 30 * time.Second})
	pid := h.env(t).Pid
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.svc.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !processGone(pid) {
		t.Fatalf("process %d survived Stop", pid)
	}
	// The function's own shutdown path ran, so SIGTERM (not SIGKILL) stopped it.
	testenv.Eventually(t, 15*time.Second, "shutdown message", func() bool { return strings.Contains(h.output.String(), "[hello] hello stopped") })
}
