// Package conformance runs Knative's own defaulting and validation over the
// manifests in knative/. It is a separate module because knative.dev/serving and
// knative.dev/eventing pull in most of Kubernetes; the main module stays light.
//
// Run: cd knative/conformance && go test ./...
//
// KafkaSink and the KafkaSource spec itself live in
// knative.dev/eventing-kafka-broker, which the module proxy does not serve here;
// knative/topology re-implements their rules. What eventing ships (DeliverySpec,
// Destination, PingSource, SinkBinding) is validated with eventing's own code.
package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	"knative.dev/eventing/pkg/apis/feature"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"
)

const knativeDir = ".."

// manifest is one YAML document of a file in knative/.
type manifest struct {
	file string
	kind string
	name string
	body []byte
}

// readManifests returns the documents of one file that have the given kind.
func readManifests(t *testing.T, file, kind string) []manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(knativeDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var out []manifest
	for _, doc := range splitYAML(string(data)) {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if head.Kind == kind {
			out = append(out, manifest{file: file, kind: kind, name: head.Metadata.Name, body: []byte(doc)})
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s in %s", kind, file)
	}
	return out
}

// splitYAML cuts a multi-document file at "---" lines and drops empty documents.
func splitYAML(s string) []string {
	var docs []string
	var cur strings.Builder
	flush := func() {
		d := cur.String()
		cur.Reset()
		for _, l := range strings.Split(d, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, d)
				return
			}
		}
	}
	for _, l := range strings.SplitAfter(s, "\n") {
		if t := strings.TrimSpace(l); t == "---" || strings.HasPrefix(t, "--- #") {
			flush()
			continue
		}
		cur.WriteString(l)
	}
	flush()
	return docs
}

// errorsOnly drops Knative's warning-level findings (e.g. the securityContext
// advice it gives every Service) and keeps the errors.
func errorsOnly(fe *apis.FieldError) error {
	if fe == nil {
		return nil
	}
	if errs := fe.Filter(apis.ErrorLevel); errs != nil {
		return errs
	}
	return nil
}

func validateService(body []byte) (*servingv1.Service, error) {
	var svc servingv1.Service
	if err := yaml.UnmarshalStrict(body, &svc); err != nil {
		return nil, err
	}
	ctx := context.Background()
	svc.SetDefaults(ctx)
	return &svc, errorsOnly(svc.Validate(ctx))
}

// clusterFeatures is a context carrying eventing's default config-features, as
// the webhook in a cluster sees them. delivery.timeout is validated only when
// the delivery-timeout feature is enabled, which it is by default in a cluster,
// but a bare context.Background() carries no flags at all and rejects the field.
func clusterFeatures(t *testing.T, overrides map[string]string) context.Context {
	t.Helper()
	flags, err := feature.NewFlagsConfigFromMap(overrides)
	if err != nil {
		t.Fatal(err)
	}
	return feature.ToContext(context.Background(), flags)
}

func validateDelivery(ctx context.Context, body []byte) error {
	var d eventingduckv1.DeliverySpec
	if err := yaml.UnmarshalStrict(body, &d); err != nil {
		return err
	}
	return errorsOnly(d.Validate(ctx))
}

func TestServicesPassKnativeValidation(t *testing.T) {
	ms := readManifests(t, "services.yaml", "Service")
	if len(ms) != 11 {
		t.Errorf("%d Services, want 11", len(ms))
	}
	for _, m := range ms {
		svc, err := validateService(m.body)
		if err != nil {
			t.Errorf("%s: Service %s: %v", m.file, m.name, err)
			continue
		}
		// Defaulting must not have changed what we set explicitly.
		spec := svc.Spec.Template.Spec
		if spec.ContainerConcurrency == nil || spec.TimeoutSeconds == nil {
			t.Errorf("Service %s lost containerConcurrency or timeoutSeconds in defaulting", m.name)
		}
		if got := svc.Spec.Template.Annotations["autoscaling.knative.dev/min-scale"]; got != "0" {
			t.Errorf("Service %s min-scale = %q after defaulting", m.name, got)
		}
	}
}

func TestKafkaSourceDeliveryAndSinkPassEventingValidation(t *testing.T) {
	for _, m := range readManifests(t, "sources.yaml", "KafkaSource") {
		var src struct {
			Spec struct {
				Delivery any `json:"delivery"`
				Sink     any `json:"sink"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(m.body, &src); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if src.Spec.Delivery == nil || src.Spec.Sink == nil {
			t.Errorf("KafkaSource %s: missing delivery or sink", m.name)
			continue
		}
		delivery, _ := yaml.Marshal(src.Spec.Delivery)
		if err := validateDelivery(clusterFeatures(t, nil), delivery); err != nil {
			t.Errorf("KafkaSource %s: spec.delivery: %v", m.name, err)
		}
		var d eventingduckv1.DeliverySpec
		if err := yaml.UnmarshalStrict(delivery, &d); err == nil && (d.DeadLetterSink == nil || d.Retry == nil || d.BackoffDelay == nil || d.Timeout == nil) {
			t.Errorf("KafkaSource %s: delivery is not complete: %+v", m.name, d)
		}
		sink, _ := yaml.Marshal(src.Spec.Sink)
		var dest duckv1.Destination
		if err := yaml.UnmarshalStrict(sink, &dest); err != nil {
			t.Errorf("KafkaSource %s: spec.sink: %v", m.name, err)
			continue
		}
		if err := errorsOnly(dest.Validate(context.Background())); err != nil {
			t.Errorf("KafkaSource %s: spec.sink: %v", m.name, err)
		}
	}
}

func TestPingSourcesPassEventingValidation(t *testing.T) {
	for _, m := range readManifests(t, "pings.yaml", "PingSource") {
		var p sourcesv1.PingSource
		if err := yaml.UnmarshalStrict(m.body, &p); err != nil {
			t.Errorf("PingSource %s: %v", m.name, err)
			continue
		}
		ctx := context.Background()
		p.SetDefaults(ctx)
		if err := errorsOnly(p.Validate(ctx)); err != nil {
			t.Errorf("PingSource %s: %v", m.name, err)
		}
	}
}

func TestSinkBindingsPassEventingValidation(t *testing.T) {
	for _, m := range readManifests(t, "bindings.yaml", "SinkBinding") {
		var b sourcesv1.SinkBinding
		if err := yaml.UnmarshalStrict(m.body, &b); err != nil {
			t.Errorf("SinkBinding %s: %v", m.name, err)
			continue
		}
		ctx := context.Background()
		b.SetDefaults(ctx)
		if err := errorsOnly(b.Validate(ctx)); err != nil {
			t.Errorf("SinkBinding %s: %v", m.name, err)
		}
		if b.Spec.Subject.Namespace != "tidings" {
			t.Errorf("SinkBinding %s: subject namespace %q after defaulting", m.name, b.Spec.Subject.Namespace)
		}
	}
}

// The negative tests prove the validation above can fail: Knative's own rules
// reject values our manifests must never contain.

func TestKnativeRejectsBrokenService(t *testing.T) {
	base := readManifests(t, "services.yaml", "Service")[0]
	cases := []struct {
		name, old, new, wantField string
	}{
		{"timeout above 600s", "timeoutSeconds: 30", "timeoutSeconds: 3600", "spec.template.spec.timeoutSeconds"},
		{"containerConcurrency above 1000", "containerConcurrency: 10", "containerConcurrency: 5000", "spec.template.spec.containerConcurrency"},
		{"window below 6s", `autoscaling.knative.dev/min-scale: "0"`, `autoscaling.knative.dev/min-scale: "0"` + "\n        autoscaling.knative.dev/window: \"1s\"", "autoscaling.knative.dev/window"},
		{"name that is not DNS-1035", "name: signup\n  namespace", "name: Sign_Up\n  namespace", "metadata.name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := string(base.body)
			if !strings.Contains(body, tc.old) {
				t.Fatalf("%q not in Service %s", tc.old, base.name)
			}
			_, err := validateService([]byte(strings.Replace(body, tc.old, tc.new, 1)))
			if err == nil {
				t.Fatalf("Knative accepted a Service with %s", tc.name)
			}
			if !strings.Contains(err.Error(), tc.wantField) {
				t.Errorf("error %q does not name %s", err, tc.wantField)
			}
		})
	}
	t.Run("unknown field", func(t *testing.T) {
		body := strings.Replace(string(base.body), "timeoutSeconds:", "timeoutSecnds:", 1)
		if _, err := validateService([]byte(body)); err == nil || !strings.Contains(err.Error(), "timeoutSecnds") {
			t.Errorf("strict decoding accepted a typo: %v", err)
		}
	})
}

func TestEventingRejectsBrokenDelivery(t *testing.T) {
	ctx := clusterFeatures(t, nil)
	good := "retry: 3\nbackoffPolicy: exponential\nbackoffDelay: PT0.5S\ntimeout: PT10S\n"
	if err := validateDelivery(ctx, []byte(good)); err != nil {
		t.Fatalf("a valid delivery was rejected: %v", err)
	}
	// With delivery-timeout switched off in config-features, timeout is refused:
	// our manifests rely on the feature's default (enabled).
	off := clusterFeatures(t, map[string]string{feature.DeliveryTimeout: "disabled"})
	if err := validateDelivery(off, []byte(good)); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("delivery-timeout disabled: error %v, want one naming timeout", err)
	}
	cases := []struct {
		name, body, wantField string
	}{
		{"Go-style backoffDelay", "retry: 3\nbackoffPolicy: exponential\nbackoffDelay: 5s\n", "backoffDelay"},
		{"Go-style timeout", "retry: 3\ntimeout: 10s\n", "timeout"},
		{"zero timeout", "timeout: PT0S\n", "timeout"},
		{"negative retry", "retry: -1\n", "retry"},
		{"unknown backoffPolicy", "backoffPolicy: fibonacci\n", "backoffPolicy"},
		{"dead-letter sink without a target", "deadLetterSink: {}\n", "deadLetterSink"},
		{"typo in a field", "retyr: 3\n", "retyr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateDelivery(ctx, []byte(tc.body))
			if err == nil {
				t.Fatalf("eventing accepted %q", tc.body)
			}
			if !strings.Contains(err.Error(), tc.wantField) {
				t.Errorf("error %q does not name %s", err, tc.wantField)
			}
		})
	}
}

func TestEventingRejectsBrokenPingSourceAndSinkBinding(t *testing.T) {
	ping := readManifests(t, "pings.yaml", "PingSource")[0]
	for _, tc := range []struct{ old, new, wantField string }{
		{`schedule: "* * * * *"`, `schedule: "every minute"`, "schedule"},
		{`data: '{"reason":"outbox sweep"}'`, `data: 'not json'`, "data"},
		{"      kind: Service\n", "", "sink"},
	} {
		var p sourcesv1.PingSource
		body := strings.Replace(string(ping.body), tc.old, tc.new, 1)
		if body == string(ping.body) {
			t.Fatalf("%q not in the PingSource", tc.old)
		}
		if err := yaml.UnmarshalStrict([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		p.SetDefaults(context.Background())
		err := errorsOnly(p.Validate(context.Background()))
		if err == nil || !strings.Contains(err.Error(), tc.wantField) {
			t.Errorf("PingSource with %q: error %v, want one naming %s", tc.new, err, tc.wantField)
		}
	}

	binding := readManifests(t, "bindings.yaml", "SinkBinding")[0]
	var b sourcesv1.SinkBinding
	body := strings.Replace(string(binding.body), "    kind: Service\n", "", 1)
	if err := yaml.UnmarshalStrict([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	b.SetDefaults(context.Background())
	if err := errorsOnly(b.Validate(context.Background())); err == nil || !strings.Contains(err.Error(), "subject") {
		t.Errorf("SinkBinding without subject kind: error %v, want one naming the subject", err)
	}
}
