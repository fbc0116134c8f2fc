package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasink"
	"github.com/tidings-dev/tidings/infra/local/eventing/oidc"
	"github.com/tidings-dev/tidings/knative/topology"
)

// The local stack runs Knative Eventing with OIDC on: it is its own token
// issuer, its KafkaSink ingress enforces knative/eventpolicies.yaml, and each
// Service gets the tokens a cluster would give it, as files it reads.
const (
	issuerURL = "https://oidc.tidings.local"
	// tokenTTL and tokenRefresh: tokens are rewritten long before they
	// expire, as the cluster rotates SinkBinding and projected tokens.
	tokenTTL     = 2 * time.Hour
	tokenRefresh = 30 * time.Minute
)

// tokens is what the stack issues: one file per token, rewritten on refresh.
type tokens struct {
	issuer *oidc.Issuer
	mu     sync.Mutex
	files  map[string][2]string // path → subject, audience
}

// sinkAudience is a KafkaSink's OIDC audience.
func sinkAudience(ref topology.ObjectRef, namespace string) string {
	if ref.Namespace != "" {
		namespace = ref.Namespace
	}
	return topology.Audience(ref, namespace)
}

// protectSinks gives every KafkaSink that has EventPolicies the receiver's
// checks: a token for its audience, from a subject and of a type a policy
// admits.
func (s *Stack) protectSinks(in *kafkasink.Ingress) error {
	for _, k := range s.topo.KafkaSinks {
		var policies []kafkasink.Policy
		for _, p := range s.topo.EventPoliciesFor(k.Name) {
			policies = append(policies, kafkasink.Policy{Subjects: p.Subjects(), Types: p.Types})
		}
		if len(policies) == 0 {
			continue
		}
		ref := topology.ObjectRef{APIVersion: topology.EventingV1Alpha1, Kind: "KafkaSink", Name: k.Name}
		if err := in.Protect(k.Namespace, k.Name, sinkAudience(ref, k.Namespace), policies); err != nil {
			return err
		}
	}
	return nil
}

// tokenEnv writes the tokens svc would have on a cluster and returns the
// environment that points it at them: a SinkBinding's token for its sink
// (OIDC_TOKEN_FILE, at /oidc/token there), and the serviceAccountToken
// projections of the manifest, under a local directory that stands in for
// the mount path wherever the manifest's env names that path.
func (s *Stack) tokenEnv(svc *topology.Service) (map[string]string, error) {
	env := map[string]string{}
	if s.tokens == nil {
		return env, nil
	}
	dir := filepath.Join(s.opts.DataDir, "oidc", svc.Name)
	if b := s.topo.SinkBindingFor(svc.Name); b != nil && b.Sink.Ref != nil {
		binding := topology.ObjectRef{APIVersion: topology.SourcesV1, Kind: "SinkBinding", Name: b.Name}
		path := filepath.Join(dir, "binding", "token")
		if err := s.tokens.issue(path, topology.OIDCSubject(binding, b.Namespace), sinkAudience(*b.Sink.Ref, b.Namespace)); err != nil {
			return nil, err
		}
		env["OIDC_TOKEN_FILE"] = path
	}
	if len(svc.Tokens) > 0 {
		account := svc.ServiceAccountName
		if account == "" {
			account = "default"
		}
		subject := "system:serviceaccount:" + svc.Namespace + ":" + account
		mounts := map[string]string{}
		for i, tf := range svc.Tokens {
			local := filepath.Join(dir, "mount", fmt.Sprint(i))
			if m, ok := mounts[tf.MountPath]; ok {
				local = m
			}
			mounts[tf.MountPath] = local
			if err := s.tokens.issue(filepath.Join(local, filepath.FromSlash(tf.Path)), subject, tf.Audience); err != nil {
				return nil, err
			}
		}
		for _, e := range svc.Env {
			if local, ok := mounts[e.Value]; ok && e.ValueFrom == nil {
				env[e.Name] = local
			}
		}
	}
	return env, nil
}

func (t *tokens) issue(path, subject, audience string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.files[path] = [2]string{subject, audience}
	return t.write(path, subject, audience)
}

// write replaces the token file atomically, so a send never reads half.
func (t *tokens) write(path, subject, audience string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(t.issuer.Mint(subject, audience, tokenTTL)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// refresh rewrites every token until ctx ends.
func (t *tokens) refresh(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.mu.Lock()
			for path, c := range t.files {
				_ = t.write(path, c[0], c[1])
			}
			t.mu.Unlock()
		}
	}
}

// MintToken issues a token as the cluster would for subject and the KafkaSink
// sink's audience, for tests and tools that must act as a Tidings producer.
func (s *Stack) MintToken(subject, sink string) string {
	ref := topology.ObjectRef{APIVersion: topology.EventingV1Alpha1, Kind: "KafkaSink", Name: sink}
	ns := "tidings"
	if k := s.topo.KafkaSink(sink); k != nil {
		ns = k.Namespace
	}
	return s.tokens.issuer.Mint(subject, sinkAudience(ref, ns), tokenTTL)
}

// sourceToken mints, per send, the KafkaSource's OIDC token for a KafkaSink
// it delivers to (its dead-letter sink); nil for any other destination.
func (s *Stack) sourceToken(src *topology.KafkaSource, d topology.Destination) func() string {
	if s.tokens == nil || d.Ref == nil || d.Ref.Kind != "KafkaSink" {
		return nil
	}
	subject := topology.OIDCSubject(topology.ObjectRef{APIVersion: topology.SourcesV1, Kind: "KafkaSource", Name: src.Name}, src.Namespace)
	audience := sinkAudience(*d.Ref, src.Namespace)
	return func() string { return s.tokens.issuer.Mint(subject, audience, tokenTTL) }
}
