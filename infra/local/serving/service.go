// Package serving emulates Knative Serving for one machine: each Service runs
// its function binary as a local process that starts on the first request
// (cold start), is fronted by a proxy that plays the activator and
// queue-proxy (concurrency limit, request timeout), and is stopped again
// after it has been idle (scale to zero).
package serving

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidings-dev/tidings/functions/problem"
	"github.com/tidings-dev/tidings/knative/topology"
)

// Defaults for zero Config fields. Knative's own (timeout, scale-to-zero
// delay, probe schedules) live in knative/topology.
const (
	DefaultStartTimeout    = 60 * time.Second
	DefaultStopGracePeriod = 10 * time.Second
)

// Probe is one of the container's probes: an HTTP GET of Path (or, with no
// Path, a TCP connect, Knative's default readiness probe) on its schedule.
type Probe struct {
	Path string
	topology.ProbeTiming
}

// State is where a Service's process is in its life.
type State string

const (
	StateStopped  State = "stopped"  // scaled to zero (or never started)
	StateStarting State = "starting" // cold start in progress
	StateRunning  State = "running"  // ready and serving
)

// Config describes one Knative Service as the local stack runs it.
type Config struct {
	// Name is the Knative Service name; it becomes K_SERVICE and K_CONFIGURATION.
	Name string
	// Binary is the executable built from the Service's ko:// image.
	Binary string
	// Env is extra environment (K_SINK, DATABASE_URL, ...). PORT, K_SERVICE,
	// K_CONFIGURATION and K_REVISION are reserved, as in Knative.
	Env map[string]string
	// KoDataPath becomes $KO_DATA_PATH when set.
	KoDataPath string
	// Dir is the process's working directory; default: the stack's.
	Dir string
	// MinScale > 0 starts the process eagerly and keeps it running.
	MinScale int
	// ContainerConcurrency > 0 caps requests in flight to the process
	// (spec.containerConcurrency); 0 means unlimited.
	ContainerConcurrency int
	// QueueDepth is how many requests may wait for a concurrency slot before
	// new ones get 503; default 10 × ContainerConcurrency, like queue-proxy.
	QueueDepth int
	// Timeout is spec.timeoutSeconds, counted from the request's arrival
	// (queueing and cold start included): a response that has not started
	// by then gets 504, and an upgraded connection (a WebSocket) is closed.
	Timeout time.Duration
	// IdleTimeout is how long the process may sit with no request in flight
	// before it is stopped (scale to zero).
	IdleTimeout time.Duration
	// StartTimeout bounds exec → ready.
	StartTimeout time.Duration
	// StopGracePeriod is the wait between SIGTERM and SIGKILL.
	StopGracePeriod time.Duration
	// Readiness gates traffic: polled during a cold start until it passes,
	// then every period; FailureThreshold failures in a row hold requests
	// back until it passes again.
	Readiness Probe
	// Liveness, when it has a Path, restarts the process after
	// FailureThreshold failures in a row.
	Liveness Probe
	// Output receives the process's stdout and stderr, each line prefixed
	// with "[name] "; default os.Stderr.
	Output io.Writer
	Logger *slog.Logger
}

// Revision is the name Knative gives a Service's first revision; the local
// stack only ever has that one.
func (c Config) Revision() string { return c.Name + "-00001" }

// Service runs one Knative Service locally. It is an http.Handler: requests
// start the process when needed and are proxied to it.
type Service struct {
	cfg       Config
	log       *slog.Logger
	env       []string
	proxy     *httputil.ReverseProxy
	transport *http.Transport
	slots     chan struct{} // one token per request in flight; nil when unlimited

	life    context.Context // ends when Stop is called
	cancel  context.CancelFunc
	workers sync.WaitGroup // start attempts and the min-scale keeper

	mu         sync.Mutex
	closed     bool
	proc       *process // ready process, nil when scaled to zero
	start      *startAttempt
	live       map[*process]struct{} // every process not yet reaped
	inflight   int                   // requests inside ServeHTTP, queued ones included
	waiting    int                   // requests queued for a concurrency slot
	lastActive time.Time
	idleTimer  *time.Timer
	coldStarts []time.Duration
}

// startAttempt is one cold start that concurrent requests share.
type startAttempt struct {
	done chan struct{}
	proc *process
	err  error
}

// New returns a Service for cfg. With MinScale > 0 it starts the process
// right away in the background.
func New(cfg Config) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = topology.DefaultTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = topology.DefaultWindow + topology.DefaultScaleToZeroGracePeriod
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.StopGracePeriod <= 0 {
		cfg.StopGracePeriod = DefaultStopGracePeriod
	}
	for _, p := range []*Probe{&cfg.Readiness, &cfg.Liveness} {
		if p.Timeout <= 0 {
			p.Timeout = topology.DefaultProbeTimeout
		}
		if p.FailureThreshold <= 0 {
			p.FailureThreshold = topology.DefaultProbeFailureThreshold
		}
	}
	if cfg.Liveness.Period <= 0 {
		cfg.Liveness.Period = topology.DefaultProbePeriod
	}
	if cfg.Output == nil {
		cfg.Output = os.Stderr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ContainerConcurrency > 0 && cfg.QueueDepth <= 0 {
		cfg.QueueDepth = 10 * cfg.ContainerConcurrency
	}
	s := &Service{
		cfg:  cfg,
		log:  cfg.Logger.With("service", cfg.Name),
		live: map[*process]struct{}{},
		transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	s.life, s.cancel = context.WithCancel(context.Background())
	s.env = s.buildEnv()
	if cfg.ContainerConcurrency > 0 {
		s.slots = make(chan struct{}, cfg.ContainerConcurrency)
	}
	s.proxy = &httputil.ReverseProxy{
		Rewrite:        rewrite,
		Transport:      s.transport,
		FlushInterval:  -1, // stream every write, as queue-proxy does
		ModifyResponse: headersArrived,
		ErrorHandler:   s.proxyError,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if cfg.MinScale > 0 {
		s.workers.Add(1)
		go s.keepWarm()
	}
	return s
}

func (s *Service) buildEnv() []string {
	env := baseEnv()
	reserved := map[string]bool{"PORT": true, "K_SERVICE": true, "K_CONFIGURATION": true, "K_REVISION": true}
	for _, k := range slices.Sorted(maps.Keys(s.cfg.Env)) {
		if reserved[k] {
			s.log.Warn("ignoring reserved env var", "name", k)
			continue
		}
		env = append(env, k+"="+s.cfg.Env[k])
	}
	if s.cfg.KoDataPath != "" {
		env = append(env, "KO_DATA_PATH="+s.cfg.KoDataPath)
	}
	return append(env,
		"K_SERVICE="+s.cfg.Name,
		"K_CONFIGURATION="+s.cfg.Name,
		"K_REVISION="+s.cfg.Revision(),
	)
}

// Name is the Knative Service name.
func (s *Service) Name() string { return s.cfg.Name }

// State reports whether the process is running, starting or stopped.
func (s *Service) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.proc != nil:
		return StateRunning
	case s.start != nil:
		return StateStarting
	default:
		return StateStopped
	}
}

// Addr is the running process's listen address (host:port), or "" when
// scaled to zero.
func (s *Service) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return ""
	}
	return s.proc.addr
}

// ColdStarts lists the exec → ready time of every start so far.
func (s *Service) ColdStarts() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.coldStarts)
}

// EnsureRunning starts the process if it is not running and waits until it
// is ready (or ctx ends).
func (s *Service) EnsureRunning(ctx context.Context) error {
	_, err := s.ensureProcess(ctx)
	return err
}

// Stop stops the process (SIGTERM, then SIGKILL after the grace period) and
// makes every later request fail with 503. It waits for every process the
// Service started to be reaped, or for ctx to end.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.proc = nil
	if s.idleTimer != nil {
		s.idleTimer.Stop()
	}
	procs := slices.Collect(maps.Keys(s.live))
	s.mu.Unlock()
	s.cancel() // aborts cold starts in progress and the min-scale keeper

	errs := make(chan error, len(procs))
	for _, p := range procs {
		go func() { errs <- p.terminate(ctx, s.cfg.StopGracePeriod) }()
	}
	var all []error
	for range procs {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	workersDone := make(chan struct{})
	go func() { s.workers.Wait(); close(workersDone) }()
	select {
	case <-workersDone:
	case <-ctx.Done():
		all = append(all, ctx.Err())
	}
	s.transport.CloseIdleConnections()
	if err := errors.Join(all...); err != nil {
		return fmt.Errorf("stop %s: %w", s.cfg.Name, err)
	}
	return nil
}

var errQueueFull = errors.New("too many requests waiting for a free slot")

// ServeHTTP plays activator + queue-proxy: wait for a concurrency slot,
// cold-start the process if needed, then proxy.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	deadline := time.Now().Add(s.cfg.Timeout)
	waitCtx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()

	if !s.enter() {
		problem.Platform(w, http.StatusServiceUnavailable, fmt.Sprintf("service %s is stopped", s.cfg.Name))
		return
	}
	defer s.leave()

	release, err := s.acquireSlot(waitCtx)
	if err != nil {
		s.waitFailed(w, r, waitCtx, "waiting for a free slot", err)
		return
	}
	defer release()

	p, err := s.ensureProcess(waitCtx)
	if err != nil {
		s.waitFailed(w, r, waitCtx, "starting the service", err)
		return
	}
	s.forward(w, r, p, deadline)
}

// waitFailed answers a request that never reached the process.
func (s *Service) waitFailed(w http.ResponseWriter, r *http.Request, waitCtx context.Context, phase string, err error) {
	switch {
	case r.Context().Err() != nil:
		return // the client went away; nobody to answer
	case waitCtx.Err() != nil: // this request's own timeout
		problem.Platform(w, http.StatusGatewayTimeout, fmt.Sprintf("service %s: timed out after %s %s", s.cfg.Name, s.cfg.Timeout, phase))
	case errors.Is(err, errQueueFull):
		problem.Platform(w, http.StatusServiceUnavailable, fmt.Sprintf("service %s is overloaded: %v", s.cfg.Name, err))
	default:
		s.log.Debug("request failed", "phase", phase, "err", err) // the cause is logged once where it happened
		problem.Platform(w, http.StatusServiceUnavailable, fmt.Sprintf("service %s: %s: %v", s.cfg.Name, phase, err))
	}
}

func (s *Service) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight++
	s.lastActive = time.Now()
	return true
}

func (s *Service) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	s.lastActive = time.Now()
	if s.inflight == 0 {
		s.armIdleLocked()
	}
}

func (s *Service) acquireSlot(ctx context.Context) (release func(), err error) {
	if s.slots == nil {
		return func() {}, nil
	}
	release = func() { <-s.slots }
	select {
	case s.slots <- struct{}{}:
		return release, nil
	default:
	}
	s.mu.Lock()
	if s.waiting >= s.cfg.QueueDepth {
		s.mu.Unlock()
		return nil, errQueueFull
	}
	s.waiting++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
	}()
	select {
	case s.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ensureProcess returns the ready process, cold-starting it if needed.
// Concurrent callers share one start.
func (s *Service) ensureProcess(ctx context.Context) (*process, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, errClosed
		}
		if p := s.proc; p != nil && !p.hasExited() {
			s.mu.Unlock()
			unready := p.unreadyCh()
			if unready == nil {
				return p, nil
			}
			// Failing readiness: the pod is out of the endpoints, so the
			// request waits as the activator would.
			select {
			case <-unready:
			case <-p.exited:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			continue
		}
		s.proc = nil
		a := s.start
		if a == nil {
			a = &startAttempt{done: make(chan struct{})}
			s.start = a
			s.workers.Add(1)
			go s.runStart(a)
		}
		s.mu.Unlock()

		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if a.err != nil {
			return nil, a.err
		}
		if !a.proc.hasExited() {
			return a.proc, nil
		}
		// It died right after becoming ready; try again.
	}
}

func (s *Service) runStart(a *startAttempt) {
	defer s.workers.Done()
	p, err := s.startProcess()
	s.mu.Lock()
	s.start = nil
	if err == nil {
		s.proc = p
		s.lastActive = time.Now()
		if s.inflight == 0 {
			s.armIdleLocked()
		}
		s.workers.Add(1)
		go s.watch(p)
	}
	a.proc, a.err = p, err
	close(a.done)
	s.mu.Unlock()
}

// startProcess execs the binary and waits for it to be ready.
func (s *Service) startProcess() (*process, error) {
	p, err := launch(launchSpec{
		binary: s.cfg.Binary,
		env:    s.env,
		dir:    s.cfg.Dir,
		output: s.cfg.Output,
		prefix: "[" + s.cfg.Name + "] ",
	}, s.onExit)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if !p.hasExited() {
		s.live[p] = struct{}{}
	}
	closed := s.closed
	s.mu.Unlock()
	if closed {
		_ = p.terminate(context.Background(), s.cfg.StopGracePeriod) // closing: errClosed is the answer
		return nil, errClosed
	}

	ctx, cancel := context.WithTimeout(s.life, s.cfg.StartTimeout)
	defer cancel()
	if err := p.waitReady(ctx, s.cfg.Readiness); err != nil {
		_ = p.terminate(context.Background(), min(s.cfg.StopGracePeriod, time.Second)) // the readiness error is the one to report
		if s.life.Err() != nil {
			return nil, errClosed
		}
		s.log.Warn("cold start failed", "pid", p.pid(), "err", err)
		return nil, fmt.Errorf("process %d %w", p.pid(), err)
	}
	d := time.Since(p.started)
	s.mu.Lock()
	s.coldStarts = append(s.coldStarts, d)
	s.mu.Unlock()
	s.log.Info("cold start", "duration_ms", d.Milliseconds(), "pid", p.pid(), "addr", p.addr)
	return p, nil
}

// onExit runs when a process has been reaped.
func (s *Service) onExit(p *process) {
	s.mu.Lock()
	delete(s.live, p)
	current := s.proc == p
	if current {
		s.proc = nil
	}
	s.mu.Unlock()
	if current && !p.expectedExit() {
		// The next request (or the min-scale keeper) starts a new one.
		s.log.Warn("process exited unexpectedly", "pid", p.pid(), "err", p.exitErr)
	}
}

func (s *Service) armIdleLocked() {
	if s.cfg.MinScale > 0 || s.closed {
		return
	}
	if s.idleTimer == nil {
		s.idleTimer = time.AfterFunc(s.cfg.IdleTimeout, s.checkIdle)
		return
	}
	s.idleTimer.Reset(s.cfg.IdleTimeout)
}

// checkIdle scales to zero once the process has had nothing in flight for
// IdleTimeout. Open WebSockets are requests in flight, so they keep it up.
func (s *Service) checkIdle() {
	s.mu.Lock()
	p := s.proc
	if s.closed || p == nil || s.inflight > 0 {
		s.mu.Unlock()
		return
	}
	idle := time.Since(s.lastActive)
	if rest := s.cfg.IdleTimeout - idle; rest > 0 {
		s.idleTimer.Reset(rest)
		s.mu.Unlock()
		return
	}
	s.proc = nil
	p.markStopping()
	s.mu.Unlock()

	s.log.Info("scaled to zero", "idle_ms", idle.Milliseconds(), "pid", p.pid())
	go func() {
		if err := p.terminate(context.Background(), s.cfg.StopGracePeriod); err != nil {
			s.log.Warn("stopping idle process", "pid", p.pid(), "err", err)
		}
		s.transport.CloseIdleConnections()
	}()
}

// watch probes a ready process for as long as it runs, as kubelet does:
// readiness every period (Kubernetes' default when the manifest leaves it
// to Knative's start-up probing), liveness every period after its initial
// delay. FailureThreshold failures in a row take the process out of
// rotation (readiness) or restart it (liveness).
func (s *Service) watch(p *process) {
	defer s.workers.Done()
	ready := s.cfg.Readiness
	if ready.Period <= 0 {
		ready.Period = topology.DefaultProbePeriod
	}
	live := s.cfg.Liveness
	readyTick := time.NewTicker(ready.Period)
	defer readyTick.Stop()
	var liveTick <-chan time.Time
	if live.Path != "" {
		t := time.NewTicker(live.Period)
		defer t.Stop()
		liveTick = t.C
	}
	liveAfter := p.started.Add(live.InitialDelay)
	var readyFails, liveFails int
	for {
		select {
		case <-p.exited:
			return
		case <-s.life.Done():
			return
		case <-readyTick.C:
			err := p.probe(s.life, ready)
			if err == nil {
				readyFails = 0
				if p.setReady(true) {
					s.log.Info("readiness probe passes again", "pid", p.pid())
				}
				continue
			}
			if readyFails++; readyFails >= ready.FailureThreshold && p.setReady(false) {
				s.log.Warn("readiness probe failing: holding requests back", "pid", p.pid(), "err", err)
			}
		case now := <-liveTick:
			if now.Before(liveAfter) {
				continue
			}
			err := p.probe(s.life, live)
			if err == nil {
				liveFails = 0
				continue
			}
			if liveFails++; liveFails >= live.FailureThreshold {
				s.log.Warn("liveness probe failed: restarting", "pid", p.pid(), "failures", liveFails, "err", err)
				s.restart(p)
				return
			}
		}
	}
}

// restart stops a process that failed its liveness probe; the next request
// (or the min-scale keeper) starts a new one, as kubelet restarts the
// container.
func (s *Service) restart(p *process) {
	s.mu.Lock()
	if s.proc == p {
		s.proc = nil
	}
	s.mu.Unlock()
	p.markStopping()
	if err := p.terminate(context.Background(), s.cfg.StopGracePeriod); err != nil {
		s.log.Warn("stopping unhealthy process", "pid", p.pid(), "err", err)
	}
	s.transport.CloseIdleConnections()
}

// keepWarm holds MinScale > 0 services at one process, restarting a crashed
// process with a growing back-off as kubelet would.
func (s *Service) keepWarm() {
	defer s.workers.Done()
	const minBackoff, maxBackoff = time.Second, 30 * time.Second
	backoff := minBackoff
	for {
		p, err := s.ensureProcess(s.life)
		if s.life.Err() != nil {
			return
		}
		if err == nil {
			select {
			case <-p.exited:
			case <-s.life.Done():
				return
			}
			if time.Since(p.started) > 10*maxBackoff {
				backoff = minBackoff
			}
		} else {
			s.log.Warn("min-scale start failed", "err", err, "retry_in", backoff)
		}
		select {
		case <-time.After(backoff):
		case <-s.life.Done():
			return
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// Proxying. The target process and the time-to-first-byte guard travel in
// the request context.

type proxyCtxKey struct{}

type proxyTarget struct {
	addr  string
	state atomic.Int32 // headersPending → headersArrived or timedOut, once
}

const (
	headersPending int32 = iota
	headersReceived
	headersTimedOut
	upgraded // 101: a WebSocket, closed at the deadline
)

func (s *Service) forward(w http.ResponseWriter, r *http.Request, p *process, deadline time.Time) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	t := &proxyTarget{addr: p.addr}
	// At the deadline, a request with no response headers yet gets 504, and
	// an upgraded connection is closed; a response that has started may
	// stream on. That is queue-proxy's and the activator's timeout handler
	// (knative/serving pkg/http/handler/timeout.go): a hijacked connection
	// never writes through the handler's writer, so timeoutSeconds ends it
	// (knative/serving#16638).
	timer := time.AfterFunc(time.Until(deadline), func() {
		if t.state.CompareAndSwap(headersPending, headersTimedOut) || t.state.Load() == upgraded {
			cancel()
		}
	})
	defer timer.Stop()
	s.proxy.ServeHTTP(w, r.WithContext(context.WithValue(ctx, proxyCtxKey{}, t)))
}

// rewrite forwards the request as the activator and queue-proxy do: Host
// and the X-Forwarded-* headers the gateway set pass through, and the peer
// is appended to X-Forwarded-For (Go's Director-style proxy, which both
// use); no X-Forwarded-Host is invented.
func rewrite(pr *httputil.ProxyRequest) {
	t := pr.In.Context().Value(proxyCtxKey{}).(*proxyTarget)
	pr.SetURL(&url.URL{Scheme: "http", Host: t.addr})
	pr.Out.Host = pr.In.Host
	for _, h := range []string{"X-Forwarded-Host", "X-Forwarded-Proto"} {
		if v := pr.In.Header.Values(h); len(v) > 0 {
			pr.Out.Header[h] = v
		}
	}
	if ip, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		pr.Out.Header.Set("X-Forwarded-For", ip)
	}
}

var errTimedOut = errors.New("no response before the request timeout")

func headersArrived(resp *http.Response) error {
	t := resp.Request.Context().Value(proxyCtxKey{}).(*proxyTarget)
	next := headersReceived
	if resp.StatusCode == http.StatusSwitchingProtocols {
		next = upgraded
	}
	if !t.state.CompareAndSwap(headersPending, next) {
		return errTimedOut
	}
	return nil
}

func (s *Service) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	t := r.Context().Value(proxyCtxKey{}).(*proxyTarget)
	switch {
	case t.state.Load() == headersTimedOut:
		problem.Platform(w, http.StatusGatewayTimeout, fmt.Sprintf("service %s did not answer within %s", s.cfg.Name, s.cfg.Timeout))
	case r.Context().Err() != nil && t.state.Load() == headersPending:
		// The client went away: nothing to answer.
	default:
		s.log.Warn("proxy error", "path", r.URL.Path, "err", err)
		problem.Platform(w, http.StatusBadGateway, fmt.Sprintf("service %s: %v", s.cfg.Name, err))
	}
}
