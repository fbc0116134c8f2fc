package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path"
	"sync"
	"time"

	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasink"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
	"github.com/tidings-dev/tidings/infra/local/eventing/oidc"
	"github.com/tidings-dev/tidings/infra/local/eventing/pingsource"
	"github.com/tidings-dev/tidings/infra/local/serving"
	"github.com/tidings-dev/tidings/knative/topology"
)

// build compiles every Service's ko:// image into a local binary, as ko would.
func (s *Stack) build(ctx context.Context) (map[string]string, error) {
	s.say("building %d functions from their ko:// images", len(s.topo.Services))
	start := time.Now()
	bins := make(map[string]string, len(s.topo.Services))
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 2) // the Go build cache does the rest
	var wg sync.WaitGroup
	for _, svc := range s.topo.Services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			bin, err := serving.Build(ctx, serving.BuildConfig{ImportPath: svc.Image, OutDir: path.Join(s.opts.DataDir, "bin"), ModuleDir: s.opts.RepoDir, Name: svc.Name})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("build %s: %w", svc.Name, err))
				return
			}
			bins[svc.Name] = bin
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.say("built %d functions in %s", len(bins), time.Since(start).Round(100*time.Millisecond))
	return bins, nil
}

// startEventingIngress serves every KafkaSink at /<namespace>/<name>.
// With EventPolicies in the manifests it is protected as a cluster's
// receiver is with Eventing OIDC on (oidc.go).
func (s *Stack) startEventingIngress(ctx context.Context) error {
	issuer, err := oidc.NewIssuer(issuerURL)
	if err != nil {
		return err
	}
	s.tokens = &tokens{issuer: issuer, files: map[string][2]string{}}
	refreshCtx, stopRefresh := context.WithCancel(context.WithoutCancel(ctx))
	go s.tokens.refresh(refreshCtx, tokenRefresh)
	s.closers = append(s.closers, func(context.Context) error { stopRefresh(); return nil })
	auth, err := s.sinkAuth()
	if err != nil {
		return err
	}
	tp, err := s.tracer("kafka-sink-receiver")
	if err != nil {
		return err
	}
	in, err := kafkasink.NewIngress(kafkasink.Config{Brokers: s.backing.KafkaBrokers, Logger: s.opts.Logger, Issuer: issuer, Auth: auth, Tracer: tp})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func(context.Context) error { return in.Close() })
	for _, k := range s.topo.KafkaSinks {
		if err := in.Register(k.Namespace, k.Name, k.Topic, k.ContentMode); err != nil {
			return fmt.Errorf("KafkaSink %s: %w", k.Name, err)
		}
	}
	if err := s.protectSinks(in); err != nil {
		return err
	}
	s.IngressURL, err = s.listen(s.opts.Ports.Ingress, in)
	return err
}

// sinkAuth is who the ingress is to Kafka: the KafkaSinks' spec.auth Secret.
// The receiver on a cluster keeps a producer per Secret; the local ingress
// has one producer, so every sink must name the same Secret (the manifests do).
func (s *Stack) sinkAuth() (kafkaauth.Credentials, error) {
	secret := ""
	for _, k := range s.topo.KafkaSinks {
		if secret != "" && k.AuthSecret != secret {
			return kafkaauth.Credentials{}, fmt.Errorf("KafkaSink %s authenticates with Secret %q, another sink with %q: the local ingress has one Kafka identity", k.Name, k.AuthSecret, secret)
		}
		secret = k.AuthSecret
	}
	return s.kafkaCreds[secret], nil
}

// sourceAuth is who a KafkaSource's dispatcher is to Kafka: its spec.net Secret.
func (s *Stack) sourceAuth(src *topology.KafkaSource) kafkaauth.Credentials {
	if src.Net.Password == nil {
		return kafkaauth.Credentials{}
	}
	return s.kafkaCreds[src.Net.Password.Name]
}

// resolve turns a Destination into a local URL, as Knative's addressable
// resolver does in a cluster.
func (s *Stack) resolve(d topology.Destination) (string, error) {
	var base string
	switch {
	case d.Ref == nil:
		return d.URI, nil
	case d.Ref.Kind == "KafkaSink":
		k := s.topo.KafkaSink(d.Ref.Name)
		if k == nil {
			return "", fmt.Errorf("no KafkaSink %q", d.Ref.Name)
		}
		base = s.IngressURL + k.IngressPath()
	case d.Ref.Kind == "Service":
		u, ok := s.urls[d.Ref.Name]
		if !ok {
			return "", fmt.Errorf("no Service %q", d.Ref.Name)
		}
		base = u
	default:
		return "", fmt.Errorf("cannot resolve a %s locally", d.Ref.Kind)
	}
	if d.URI == "" {
		return base, nil
	}
	rel, err := url.Parse(d.URI)
	if err != nil {
		return "", err
	}
	b, _ := url.Parse(base)
	return b.ResolveReference(rel).String(), nil
}

// idleTimeout is how long an idle Service keeps its process: Knative's
// scale-to-zero delay, or Options.IdleTimeout when set.
func (s *Stack) idleTimeout(svc *topology.Service) time.Duration {
	if s.opts.IdleTimeout > 0 {
		return s.opts.IdleTimeout
	}
	return svc.ScaleToZeroDelay()
}

// startServices gives each Service its own local address, fronted by a
// scale-to-zero runner, with the env Knative and its SinkBinding would give.
func (s *Stack) startServices(ctx context.Context, bins map[string]string) error {
	runners := map[string]*serving.Service{}
	// Addresses first: a SinkBinding may point one Service at another.
	for _, svc := range s.topo.Services {
		u, err := s.listen(0, clusterLocal(svc, lazyHandler(func() *serving.Service { return runners[svc.Name] })))
		if err != nil {
			return err
		}
		s.urls[svc.Name] = u
	}
	for _, svc := range s.topo.Services {
		env, err := s.serviceEnv(svc)
		if err != nil {
			return err
		}
		koData, err := serving.KoDataPath(ctx, s.opts.RepoDir, svc.ImportPath())
		if err != nil {
			koData = ""
		}
		r := serving.New(serving.Config{
			Name: svc.Name, Binary: bins[svc.Name], Env: maps.Clone(env), KoDataPath: koData,
			MinScale: svc.MinScale, ContainerConcurrency: svc.ContainerConcurrency,
			Timeout: svc.Timeout, IdleTimeout: s.idleTimeout(svc),
			Readiness: serving.Probe{Path: svc.ReadinessPath, ProbeTiming: svc.Readiness},
			Liveness:  serving.Probe{Path: svc.LivenessPath, ProbeTiming: svc.Liveness},
			Output:    s.opts.FunctionOutput, Logger: s.opts.Logger,
		})
		runners[svc.Name] = r
		s.services[svc.Name] = r
		s.closers = append(s.closers, r.Stop)
	}
	return nil
}

// functionSettings are the functions' own knobs that a person may set in the
// stack's environment for every function, as tidings-config would on a
// cluster (README.md, "What it does"): benchmarks raise the signup limit.
var functionSettings = []string{
	"PUBLIC_ORIGINS", "TRUSTED_PROXY_HOPS", "SIGNUPS_PER_HOUR", "SEARCHES_PER_MINUTE",
	"FRIEND_REQUESTS_PER_HOUR", "FRIEND_REQUEST_COOLDOWN", "UPLOAD_QUOTA_FILES", "UPLOAD_QUOTA_BYTES",
	// tracing: sampling, batching and the exporter's headers (functions/telemetry)
	"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_EXPORTER_OTLP_HEADERS",
}

// serviceEnv is the environment a Service's container gets on a cluster:
// the backing services (tidings-config and tidings-secrets there), the
// manifest's literal env, PUBLIC_URL, and what its SinkBinding injects.
func (s *Stack) serviceEnv(svc *topology.Service) (map[string]string, error) {
	env := s.backing.Env()
	env["PUBLIC_URL"] = s.PublicURL
	if s.opts.Env != nil { // nil in a Stack built by hand (tests)
		for _, k := range functionSettings {
			if v := s.opts.Env(k); v != "" {
				env[k] = v
			}
		}
	}
	for _, e := range svc.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	tokenEnv, err := s.tokenEnv(svc)
	if err != nil {
		return nil, fmt.Errorf("OIDC tokens for %s: %w", svc.Name, err)
	}
	maps.Copy(env, tokenEnv)
	b := s.topo.SinkBindingFor(svc.Name)
	if b == nil {
		return env, nil
	}
	u, err := s.resolve(b.Sink)
	if err != nil {
		return nil, fmt.Errorf("SinkBinding for %s: %w", svc.Name, err)
	}
	env["K_SINK"] = u
	env["K_CE_OVERRIDES"] = ceOverrides(b.CEOverrides)
	return env, nil
}

// ceOverrides is K_CE_OVERRIDES as a SinkBinding sets it: the JSON of
// spec.ceOverrides, or empty when there is none (knative/eventing
// pkg/apis/sources/v1/sinkbinding_lifecycle.go, Do).
func ceOverrides(ext map[string]string) string {
	if ext == nil {
		return ""
	}
	b, _ := json.Marshal(struct {
		Extensions map[string]string `json:"extensions,omitempty"`
	}{ext})
	return string(b)
}

// startSources starts a dispatcher per KafkaSource and a pinger per
// PingSource, each delivering to its resolved sink.
func (s *Stack) startSources(ctx context.Context) error {
	tp, err := s.tracer("kafka-source-dispatcher")
	if err != nil {
		return err
	}
	for _, src := range s.topo.KafkaSources {
		sub, err := s.resolve(src.Sink)
		if err != nil {
			return fmt.Errorf("KafkaSource %s sink: %w", src.Name, err)
		}
		dls := ""
		var dlsToken func() string
		if src.Delivery.DeadLetterSink != nil {
			if dls, err = s.resolve(*src.Delivery.DeadLetterSink); err != nil {
				return fmt.Errorf("KafkaSource %s deadLetterSink: %w", src.Name, err)
			}
			dlsToken = s.sourceToken(src, *src.Delivery.DeadLetterSink)
		}
		d, err := kafkasource.Start(ctx, kafkasource.Config{
			Name: src.Name, Namespace: src.Namespace, Brokers: s.backing.KafkaBrokers,
			Topics: src.Topics, ConsumerGroup: src.ConsumerGroup, InitialOffset: src.InitialOffset,
			Ordering: src.Ordering, SubscriberURL: sub, Logger: s.opts.Logger, Auth: s.sourceAuth(src), Tracer: tp,
			Delivery: kafkasource.Delivery{
				Retry: src.Delivery.Retry, BackoffPolicy: src.Delivery.BackoffPolicy,
				BackoffDelay: src.Delivery.BackoffDelay, Timeout: src.Delivery.Timeout, DeadLetterURL: dls,
				DeadLetterToken: dlsToken,
			},
		})
		if err != nil {
			return fmt.Errorf("KafkaSource %s: %w", src.Name, err)
		}
		s.closers = append(s.closers, func(context.Context) error { return d.Close() })
		s.dispatchers[src.Name] = d
	}
	for _, p := range s.topo.PingSources {
		sink, err := s.resolve(p.Sink)
		if err != nil {
			return fmt.Errorf("PingSource %s: %w", p.Name, err)
		}
		pinger, err := pingsource.Start(ctx, pingsource.Config{
			Name: p.Name, Namespace: p.Namespace, Schedule: p.Schedule, Timezone: p.Timezone,
			ContentType: p.ContentType, Data: p.Data, SinkURL: sink, Logger: s.opts.Logger,
		})
		if err != nil {
			return fmt.Errorf("PingSource %s: %w", p.Name, err)
		}
		s.closers = append(s.closers, func(context.Context) error { return pinger.Close() })
		s.pingers[p.Name] = pinger
	}
	return nil
}

// clusterLocal gives a request to a Service's own address the Host it has
// on a cluster, where event sources and other Services call
// http://<name>.<namespace>.svc.cluster.local (Knative routes by that Host),
// so a function sees the same Host from every caller.
func clusterLocal(svc *topology.Service, h http.Handler) http.Handler {
	host := svc.Name + "." + svc.Namespace + ".svc.cluster.local"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(r.Context()) // a copy: the server's request stays as it came
		r.Host = host
		h.ServeHTTP(w, r)
	})
}

// lazyHandler forwards to a runner created after its listener.
type lazyHandler func() *serving.Service

func (f lazyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { f().ServeHTTP(w, r) }
