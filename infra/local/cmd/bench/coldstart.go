package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tidings-dev/tidings/infra/local/serving"
	"github.com/tidings-dev/tidings/knative/topology"
)

// coldStart measures a function process from exec to its first answered
// request, two ways, alternating so both see the same machine:
//   - through serving (the local Knative emulation), as a user meets it: a
//     request reaches a scaled-to-zero Service, which execs the binary,
//     probes it ready and proxies the request; serving also reports its own
//     exec → ready time;
//   - bare: the bench execs the binary itself and retries the request every
//     millisecond until it is answered, which is the process's own start
//     cost without the probe's back-off.
func coldStart(ctx context.Context, repo string, o options) error {
	heading(fmt.Sprintf("cold start of a function process (%s): exec → first request served", o.function))
	topo, err := topology.Load(filepath.Join(repo, "knative"))
	if err != nil {
		return err
	}
	svc := topo.Service(o.function)
	if svc == nil {
		var names []string
		for _, s := range topo.Services {
			names = append(names, s.Name)
		}
		return fmt.Errorf("no Knative Service %q (there are: %s)", o.function, strings.Join(names, ", "))
	}
	if o.runs < 1 {
		return fmt.Errorf("-n must be at least 1")
	}
	wd, fnOut, err := newWorkDir("coldstart", o.verbose)
	if err != nil {
		return err
	}
	failed := true
	defer func() { wd.cleanup(failed) }()
	dbURL, drop, err := scratchDatabase(ctx, o.postgres)
	if err != nil {
		return err
	}
	defer drop()

	fmt.Fprintf(os.Stderr, "building %s…\n", svc.Image)
	bin, err := serving.Build(ctx, serving.BuildConfig{ImportPath: svc.Image, OutDir: filepath.Join(wd.dir, "bin"), ModuleDir: repo, Name: svc.Name})
	if err != nil {
		return err
	}
	koData, err := serving.KoDataPath(ctx, repo, svc.ImportPath())
	if err != nil {
		koData = ""
	}
	sinkURL, closeSink, err := acceptingSink()
	if err != nil {
		return err
	}
	defer closeSink()
	env := functionEnv(topo, svc, dbURL, o.redis, sinkURL)

	// The first start applies the migrations to the empty scratch database:
	// reported, not counted.
	b := bareStarter{binary: bin, env: env, koData: koData, name: svc.Name, path: o.path, out: fnOut}
	first, firstStatus, err := b.start(ctx)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}

	front, err := newFront()
	if err != nil {
		return err
	}
	defer front.close()

	var viaServing, servingReady, bare []time.Duration
	statuses := map[string]int{}
	for i := range o.runs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d, status, err := b.start(ctx)
		if err != nil {
			return fmt.Errorf("bare start %d: %w", i+1, err)
		}
		bare = append(bare, d)
		statuses[fmt.Sprintf("bare %d", status)]++

		runner := serving.New(serving.Config{
			Name: svc.Name, Binary: bin, Env: env, KoDataPath: koData,
			ContainerConcurrency: svc.ContainerConcurrency, Timeout: svc.Timeout,
			IdleTimeout: time.Hour, // scale to zero is Stop below, not a timer
			HealthPath:  svc.ReadinessPath, Output: fnOut, Logger: quietLogger(),
		})
		d, status, err = front.firstRequest(ctx, runner, o.path)
		starts := runner.ColdStarts()
		stopErr := runner.Stop(context.WithoutCancel(ctx))
		if err != nil {
			return fmt.Errorf("start %d through serving: %w", i+1, err)
		}
		if stopErr != nil {
			return stopErr
		}
		if len(starts) != 1 {
			return fmt.Errorf("start %d through serving: %d cold starts recorded, want 1", i+1, len(starts))
		}
		viaServing = append(viaServing, d)
		servingReady = append(servingReady, starts[0])
		statuses[fmt.Sprintf("serving %d", status)]++
	}

	fmt.Printf("conditions: %d runs each way, alternating; function %s (%s), first request GET %s;\n", o.runs, svc.Name, svc.Image, o.path)
	fmt.Printf("            Postgres %s (scratch database), Redis %s; process stopped (SIGTERM) between runs\n", redactURL(o.postgres), o.redis)
	t := newLatencyTable(os.Stdout)
	t.row("through serving: request → response, from zero", viaServing)
	t.row("  serving's exec → ready (probed every 2 ms)", servingReady)
	t.row("bare: exec → first request served (1 ms retries)", bare)
	t.flush()
	fmt.Printf("answers: %s\n", statusSummary(statuses))
	fmt.Printf("first start on the empty database (runs the migrations; not counted): %s, answered %d\n", ms(first), firstStatus)
	failed = false
	return nil
}

// functionEnv is what the stack gives a function: the backing services,
// the manifest's literal env, and K_SINK when a SinkBinding names one.
func functionEnv(topo *topology.Topology, svc *topology.Service, dbURL, redisURL, sinkURL string) map[string]string {
	env := map[string]string{
		"DATABASE_URL":  dbURL,
		"REDIS_URL":     redisURL,
		"KAFKA_BROKERS": "127.0.0.1:9", // not used by HTTP functions on their request path
		"S3_ENDPOINT":   "http://127.0.0.1:9",
		"S3_ACCESS_KEY": "unused", "S3_SECRET_KEY": "unused", "S3_BUCKET": "tidings-pictures",
		"SMTP_ADDR": "127.0.0.1:9",
	}
	for _, e := range svc.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	if _, ok := topo.SinkFor(svc.Name); ok {
		env["K_SINK"] = sinkURL
	}
	return env
}

// acceptingSink stands in for a KafkaSink: it takes every event with 202.
func acceptingSink() (string, func(), error) {
	return serveLoopback(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck
		w.WriteHeader(http.StatusAccepted)
	}))
}

// bareStarter execs a function binary the way serving does (same env), but
// without serving in between.
type bareStarter struct {
	binary, koData, name, path string
	env                        map[string]string
	out                        io.Writer
}

func (b bareStarter) environ(port int) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "USER"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b.env)) {
		env = append(env, k+"="+b.env[k])
	}
	if b.koData != "" {
		env = append(env, "KO_DATA_PATH="+b.koData)
	}
	return append(env, "PORT="+strconv.Itoa(port), "K_SERVICE="+b.name, "K_CONFIGURATION="+b.name, "K_REVISION="+b.name+"-00001")
}

// start execs the binary, sends the request every millisecond until one is
// answered, stops the process, and returns exec → answer.
func (b bareStarter) start(ctx context.Context) (time.Duration, int, error) {
	port, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(b.binary)
	cmd.Env = b.environ(port)
	cmd.Stdout, cmd.Stderr = b.out, b.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, b.path)
	deadline := time.Now().Add(60 * time.Second)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("exec %s: %w", b.binary, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() //nolint:errcheck
	defer stopProcess(cmd, exited)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			took := time.Since(start)
			io.Copy(io.Discard, resp.Body) //nolint:errcheck
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				return 0, resp.StatusCode, fmt.Errorf("GET %s answered %s", b.path, resp.Status)
			}
			return took, resp.StatusCode, nil
		}
		select {
		case <-exited:
			return 0, 0, fmt.Errorf("%s exited before answering (%v); see its log", b.name, cmd.ProcessState)
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%s did not answer within a minute: %v", b.name, err)
		}
	}
}

func stopProcess(cmd *exec.Cmd, exited <-chan struct{}) {
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill() //nolint:errcheck
		<-exited
	}
}

// front is the address the client talks to: the route in front of a
// serving.Service (the activator's place), swapped for a new Service on
// every run.
type front struct {
	url    string
	srv    *http.Server
	target atomic.Pointer[serving.Service]
	client *http.Client
}

func newFront() (*front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &front{url: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 70 * time.Second}}
	f.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.target.Load().ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln) //nolint:errcheck
	return f, nil
}

// firstRequest sends one request to a Service that is scaled to zero and
// returns the client-observed time to the response headers.
func (f *front) firstRequest(ctx context.Context, s *serving.Service, path string) (time.Duration, int, error) {
	if st := s.State(); st != serving.StateStopped {
		return 0, 0, fmt.Errorf("service is %s before the first request", st)
	}
	f.target.Store(s)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url+path, nil)
	start := time.Now()
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	took := time.Since(start)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode >= 500 { // serving's own answers (502/503/504) are all 5xx
		return 0, resp.StatusCode, fmt.Errorf("GET %s answered %s: %s", path, resp.Status, body)
	}
	return took, resp.StatusCode, nil
}

func (f *front) close() { f.srv.Close() }

func statusSummary(counts map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

// redactURL hides a password in a connection URL.
func redactURL(s string) string {
	if at := strings.Index(s, "@"); at > 0 {
		if colon := strings.LastIndex(s[:at], ":"); colon > strings.Index(s, "://")+2 {
			return s[:colon] + ":***" + s[at:]
		}
	}
	return s
}
