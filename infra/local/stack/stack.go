// Package stack runs the whole of Tidings on one machine: the backing
// services (or the ones the environment names), every function as its own
// scale-to-zero process, and the Knative wiring — KafkaSinks, KafkaSources,
// SinkBindings, PingSources — emulated from the same knative/ manifests and
// HTTP route a cluster uses. There is no second description of the topology.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/telemetry"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
	"github.com/tidings-dev/tidings/infra/local/eventing/pingsource"
	"github.com/tidings-dev/tidings/infra/local/gateway"
	"github.com/tidings-dev/tidings/infra/local/serving"
	"github.com/tidings-dev/tidings/knative/topology"
)

// Ports are where the stack listens; 0 picks a free port (tests).
type Ports struct {
	Gateway, Ingress       int
	Kafka, Postgres, Redis int
	MinIO, MinIOConsole    int
	SMTP, MailHTTP         int
	// Jaeger's OTLP receiver, UI/API, query gRPC and span metrics.
	JaegerOTLP, Jaeger, JaegerGRPC, JaegerMetrics int
}

// DefaultPorts are the documented local ports.
var DefaultPorts = Ports{
	Gateway: 8080, Ingress: 8081, Kafka: 9092, Postgres: 54329, Redis: 63799,
	MinIO: 9000, MinIOConsole: 9001, SMTP: 1025, MailHTTP: 8025,
	JaegerOTLP: 4318, Jaeger: 16686, JaegerGRPC: 16685, JaegerMetrics: 8889,
}

// All lists every port, to fill in or check.
func (p *Ports) All() []*int {
	return []*int{&p.Gateway, &p.Ingress, &p.Kafka, &p.Postgres, &p.Redis, &p.MinIO, &p.MinIOConsole, &p.SMTP, &p.MailHTTP,
		&p.JaegerOTLP, &p.Jaeger, &p.JaegerGRPC, &p.JaegerMetrics}
}

// pickFree replaces each 0 with a free port now: not every server we start
// can be told to choose its own.
func (p *Ports) pickFree() error {
	for _, port := range p.All() {
		if *port != 0 {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		*port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	return nil
}

// Options configure Up.
type Options struct {
	RepoDir string // module root: knative/, infra/cluster/ and the functions
	DataDir string // survives restarts; default RepoDir/.data
	Ports   Ports
	// Env overrides backing services (KAFKA_BROKERS, DATABASE_URL, REDIS_URL,
	// S3_ENDPOINT + S3_ACCESS_KEY + S3_SECRET_KEY, SMTP_ADDR) and PUBLIC_URL
	// (default http://localhost:<gateway port>); default os.Getenv.
	Env func(string) string
	// IdleTimeout, when set, replaces every Service's scale-to-zero delay
	// (tests and benchmarks; normally it comes from the manifests).
	IdleTimeout time.Duration
	// Progress receives the lines a person watches while the stack starts.
	Progress io.Writer
	// FunctionOutput receives the functions' own logs.
	FunctionOutput io.Writer
	Logger         *slog.Logger
}

// Stack is the running system.
type Stack struct {
	opts        Options
	topo        *topology.Topology
	route       *topology.Route
	backing     *Backing
	services    map[string]*serving.Service
	urls        map[string]string // Service name → its local address
	servers     []*http.Server
	dispatchers map[string]*kafkasource.Dispatcher
	pingers     map[string]*pingsource.Pinger
	closers     []func(context.Context) error
	tokens      *tokens                          // nil until the ingress starts
	kafkaCreds  map[string]kafkaauth.Credentials // by Secret name (kafkausers.go)
	tracers     map[string]trace.TracerProvider
	// GatewayURL is where the web app and /api live.
	GatewayURL string
	// PublicURL is the site's browser-facing origin, given to every function
	// as PUBLIC_URL: behind the HTTPRoute's Host rewrite a function cannot
	// learn it from the request.
	PublicURL string
	// IngressURL is the KafkaSink ingress, http://host:port/<ns>/<name>.
	IngressURL string
}

// Up starts everything and returns when the stack is ready for requests.
func Up(ctx context.Context, opts Options) (*Stack, error) {
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(opts.RepoDir, ".data")
	}
	if opts.Env == nil {
		opts.Env = os.Getenv
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.FunctionOutput == nil {
		opts.FunctionOutput = os.Stderr
	}
	if opts.Logger == nil {
		// JSON with trace and span ids, as the functions log.
		opts.Logger = slog.New(telemetry.LogHandler(slog.NewJSONHandler(opts.Progress, nil)))
	}
	s := &Stack{opts: opts, services: map[string]*serving.Service{}, urls: map[string]string{}, pingers: map[string]*pingsource.Pinger{}, dispatchers: map[string]*kafkasource.Dispatcher{}}
	var err error
	ready := false
	defer func() {
		if !ready {
			s.Close(context.WithoutCancel(ctx))
		}
	}()
	s.say("reading knative/ and infra/cluster/http-route.yaml")
	if s.topo, err = topology.Load(filepath.Join(opts.RepoDir, "knative")); err != nil {
		return nil, err
	}
	if s.route, err = topology.LoadRoute(filepath.Join(opts.RepoDir, "infra", "cluster", "http-route.yaml")); err != nil {
		return nil, err
	}
	if err = errors.Join(s.topo.Check(), s.topo.CheckRoute(s.route)); err != nil {
		return nil, fmt.Errorf("the manifests do not check out:\n%w", err)
	}
	// 0o755: a private Postgres runs as the postgres user when we are root.
	if err = os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, err
	}
	if err = os.Chmod(opts.DataDir, 0o755); err != nil {
		return nil, err
	}
	if err = s.opts.Ports.pickFree(); err != nil {
		return nil, err
	}
	s.PublicURL = opts.Env("PUBLIC_URL")
	if s.PublicURL == "" {
		s.PublicURL = fmt.Sprintf("http://localhost:%d", s.opts.Ports.Gateway)
	}

	// Backing services and builds are independent: overlap them.
	var binaries map[string]string
	var migrateBin string
	var buildErr, migrateBuildErr error
	var wg sync.WaitGroup
	wg.Go(func() { binaries, buildErr = s.build(ctx) })
	wg.Go(func() { migrateBin, migrateBuildErr = s.buildMigrate(ctx) })
	s.backing, err = startBacking(ctx, s.opts, s.say)
	wg.Wait()
	if s.backing != nil {
		s.closers = append(s.closers, s.backing.Stop)
	}
	if err = errors.Join(err, buildErr, migrateBuildErr); err != nil {
		return nil, err
	}
	// The release's migrate Job, once, before any function starts.
	if err = s.migrate(ctx, migrateBin); err != nil {
		return nil, err
	}
	said, err := createTopics(ctx, s.backing.KafkaBrokers, s.backing.KafkaAdmin, s.topo.KafkaTopics)
	for _, line := range said {
		s.say("%s", line)
	}
	if err != nil && s.backing.Kafka != nil && s.backing.KafkaAdmin.SASL() {
		// The broker keeps its users in .data/kafka; the superuser's password
		// is in .data/secrets. One without the other cannot log in.
		return nil, fmt.Errorf("%w\n(if %s was removed but %s was not, remove %s too: the broker still knows the old password)",
			err, s.opts.secretDir(kafkaAdminSecret), filepath.Join(s.opts.DataDir, "kafka"), filepath.Join(s.opts.DataDir, "kafka"))
	}
	if err != nil {
		return nil, err
	}
	if s.kafkaCreds, err = s.kafkaSecrets(); err != nil {
		return nil, err
	}
	if s.backing.KafkaAdmin.SASL() {
		if err = applyKafkaUsers(ctx, s.backing.KafkaBrokers, s.backing.KafkaAdmin, s.topo.KafkaUsers, s.kafkaCreds); err != nil {
			return nil, err
		}
		s.say("kafka: %d users with their ACLs (knative/kafkausers.yaml), secrets in %s", len(s.kafkaCreds), filepath.Join(s.opts.DataDir, "secrets"))
	}
	if err = s.startEventingIngress(ctx); err != nil {
		return nil, err
	}
	if err = s.startServices(ctx, binaries); err != nil {
		return nil, err
	}
	if err = s.startSources(ctx); err != nil {
		return nil, err
	}
	if err = s.startGateway(); err != nil {
		return nil, err
	}
	ready = true
	return s, nil
}

func (s *Stack) say(format string, args ...any) {
	fmt.Fprintf(s.opts.Progress, "• "+format+"\n", args...)
}

// listen opens a loopback listener and serves h on it.
func (s *Stack) listen(port int, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "", fmt.Errorf("port %d: %w (is another stack running?)", port, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck
	s.servers = append(s.servers, srv)
	return "http://" + ln.Addr().String(), nil
}

// Ping fires a PingSource now, as if its schedule said so (tests, tools).
func (s *Stack) Ping(ctx context.Context, name string) error {
	p, ok := s.pingers[name]
	if !ok {
		return fmt.Errorf("no PingSource %q", name)
	}
	return p.FireNow(ctx)
}

// SourceStats counts what a KafkaSource's dispatcher did.
func (s *Stack) SourceStats(name string) (kafkasource.Stats, bool) {
	d, ok := s.dispatchers[name]
	if !ok {
		return kafkasource.Stats{}, false
	}
	return d.Stats(), true
}

// Service returns the running Service runner by name.
func (s *Stack) Service(name string) *serving.Service { return s.services[name] }

// ServiceURL returns the local address of a Knative Service.
func (s *Stack) ServiceURL(name string) string { return s.urls[name] }

// Backing returns the backing services in use.
func (s *Stack) Backing() *Backing { return s.backing }

// Topology returns the loaded manifests.
func (s *Stack) Topology() *topology.Topology { return s.topo }

func (s *Stack) startGateway() error {
	backends := make(map[string]http.Handler, len(s.services))
	for name, svc := range s.services {
		backends[name] = svc
	}
	route := func(method, path string) (gateway.Rule, bool) {
		r, ok := s.route.Rule(method, path)
		return gateway.Rule{Backend: r.Backend, RewriteHost: r.RewriteHost, Retry: r.Retry}, ok
	}
	tp, err := s.tracer("gateway")
	if err != nil {
		return err
	}
	gw := gateway.New(gateway.Config{Route: route, Backends: backends, Logger: s.opts.Logger, Tracer: tp})
	// Not a ServeMux: it would redirect unclean paths before the gateway
	// normalizes them as an Envoy-based gateway does.
	status := s.statusHandler()
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == StatusPath {
			status.ServeHTTP(w, r)
			return
		}
		gw.ServeHTTP(w, r)
	})
	url, err := s.listen(s.opts.Ports.Gateway, front)
	if err != nil {
		return err
	}
	s.GatewayURL = url
	return nil
}

// tracer is the tracer provider of one of the stack's own components,
// exporting where the functions do; nil (untraced) when tracing is off.
// Their service names are the Knative data plane's and the gateway's.
func (s *Stack) tracer(service string) (trace.TracerProvider, error) {
	if s.backing.OTLPEndpoint == "" {
		return nil, nil
	}
	if tp, ok := s.tracers[service]; ok {
		return tp, nil
	}
	p, err := telemetry.NewExportingProvider(service, s.backing.OTLPEndpoint)
	if err != nil {
		return nil, fmt.Errorf("tracing %s: %w", service, err)
	}
	if s.tracers == nil {
		s.tracers = map[string]trace.TracerProvider{}
	}
	s.tracers[service] = p
	s.closers = append(s.closers, p.Shutdown) // flushed before Jaeger stops
	return p, nil
}

// Close stops everything in reverse order of starting: the HTTP front doors,
// then sources and functions, then the backing services.
func (s *Stack) Close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		srv.Close()
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](ctx); err != nil {
			s.opts.Logger.Warn("stop", "err", err)
		}
	}
	s.closers = nil
}
