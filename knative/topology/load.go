package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// kindKey identifies a kind we know how to load.
type kindKey struct{ apiVersion, kind string }

// Load reads every *.yaml file in dir (multi-document; kustomization.yaml is
// skipped) and decodes each object strictly. An unknown apiVersion/kind, an
// unknown field or a value of the wrong type is an error naming the file, the
// object and the field; all such problems are returned joined. Load does not
// apply our rules: call Check for that.
func Load(dir string) (*Topology, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("list manifests in %s: %w", dir, err)
	}
	sort.Strings(files)
	t := &Topology{Dir: dir}
	var problems []error
	loaded := 0
	for _, path := range files {
		if filepath.Base(path) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read manifest: %w", err)
		}
		for _, doc := range splitDocuments(filepath.Base(path), trimBOM(data)) {
			loaded++
			if err := t.add(doc); err != nil {
				problems = append(problems, err)
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if loaded == 0 {
		return nil, fmt.Errorf("no manifests in %s", dir)
	}
	return t, nil
}

func (t *Topology) add(doc document) error {
	o := origin{file: doc.file, line: doc.line, name: "#" + strconv.Itoa(doc.index)}
	h, j, err := readHeader(doc)
	if h.Metadata.Name != "" {
		o.name = h.Metadata.Name
	}
	if err != nil {
		o.kind = h.Kind
		return o.errorf("", "%v", err)
	}
	key := kindKey{h.APIVersion, h.Kind}
	o.kind = h.Kind
	switch key {
	case kindKey{ServingV1, "Service"}:
		var raw rawService
		if err := decodeStrict(doc, j, o, &raw); err != nil {
			return err
		}
		t.Services = append(t.Services, newService(&raw, o))
	case kindKey{EventingV1Alpha1, "KafkaSink"}:
		var raw rawKafkaSink
		if err := decodeStrict(doc, j, o, &raw); err != nil {
			return err
		}
		t.KafkaSinks = append(t.KafkaSinks, newKafkaSink(&raw, o))
	case kindKey{SourcesV1, "KafkaSource"}:
		var raw rawKafkaSource
		if err := decodeStrict(doc, j, o, &raw); err != nil {
			return err
		}
		t.KafkaSources = append(t.KafkaSources, newKafkaSource(&raw, o))
	case kindKey{SourcesV1, "SinkBinding"}:
		var raw rawSinkBinding
		if err := decodeStrict(doc, j, o, &raw); err != nil {
			return err
		}
		t.SinkBindings = append(t.SinkBindings, newSinkBinding(&raw, o))
	case kindKey{SourcesV1, "PingSource"}:
		var raw rawPingSource
		if err := decodeStrict(doc, j, o, &raw); err != nil {
			return err
		}
		t.PingSources = append(t.PingSources, newPingSource(&raw, o))
	case kindKey{StrimziV1Beta2, "KafkaTopic"}:
		var raw rawKafkaTopic
		if err := decodeStrict(doc, j, o, &raw); err != nil {
			return err
		}
		t.KafkaTopics = append(t.KafkaTopics, newKafkaTopic(&raw, o))
	case kindKey{StrimziV1, "KafkaUser"}:
		var raw rawKafkaUser
		if err := decodeStrict(doc, j, o, &raw); err != nil {
			return err
		}
		t.KafkaUsers = append(t.KafkaUsers, newKafkaUser(&raw, o))
	case kindKey{EventingV1Alpha1, "EventPolicy"}:
		var raw rawEventPolicy
		if err := decodeStrict(doc, j, o, &raw); err != nil {
			return err
		}
		t.EventPolicies = append(t.EventPolicies, newEventPolicy(&raw, o))
	default:
		o.kind = ""
		return o.errorf("kind", "unknown kind %q with apiVersion %q (known: Service %s; KafkaSink, EventPolicy %s; KafkaSource, SinkBinding, PingSource %s; KafkaTopic %s; KafkaUser %s)",
			h.Kind, h.APIVersion, ServingV1, EventingV1Alpha1, SourcesV1, StrimziV1Beta2, StrimziV1)
	}
	return nil
}

// The constructors below convert the wire shape into the model and fill in
// Knative's defaults. A value that does not parse leaves the default in place;
// Check reports it.

func newService(raw *rawService, o origin) *Service {
	s := &Service{
		Name:                raw.Metadata.Name,
		Namespace:           raw.Metadata.Namespace,
		Labels:              raw.Metadata.Labels,
		Annotations:         raw.Metadata.Annotations,
		TemplateAnnotations: raw.Spec.Template.Metadata.Annotations,
		Port:                DefaultPort,
		Target:              DefaultTarget,
		Timeout:             DefaultTimeout,
		Window:              DefaultWindow,
		origin:              o,
		raw:                 raw,
	}
	spec := raw.Spec.Template.Spec
	s.ServiceAccountName = spec.ServiceAccountName
	if spec.ContainerConcurrency != nil {
		s.ContainerConcurrency = int(*spec.ContainerConcurrency)
	}
	if spec.TimeoutSeconds != nil {
		s.Timeout = time.Duration(*spec.TimeoutSeconds) * time.Second
	}
	ann := s.TemplateAnnotations
	if v, err := scaleInt(ann, AnnotationMinScale, "autoscaling.knative.dev/minScale"); err == nil && v != nil {
		s.MinScale = *v
	}
	if v, err := scaleInt(ann, AnnotationMaxScale, "autoscaling.knative.dev/maxScale"); err == nil && v != nil {
		s.MaxScale = *v
	}
	if v, err := scaleInt(ann, AnnotationTarget); err == nil && v != nil {
		s.Target = *v
	}
	if d, ok := ann[AnnotationWindow]; ok {
		if v, err := time.ParseDuration(d); err == nil {
			s.Window = v
		}
	}
	if d, ok := ann[AnnotationScaleToZeroRetention]; ok {
		if v, err := time.ParseDuration(d); err == nil {
			s.ScaleToZeroRetention = v
		}
	}
	if len(spec.Containers) > 0 {
		c := spec.Containers[0]
		s.ContainerName = c.Name
		s.Tokens = tokenFiles(spec.Volumes, c.VolumeMounts)
		s.Image = c.Image
		if len(c.Ports) > 0 && c.Ports[0].ContainerPort != 0 {
			s.Port = int(c.Ports[0].ContainerPort)
		}
		for _, e := range c.Env {
			v := EnvVar{Name: e.Name, Value: e.Value}
			if e.ValueFrom != nil {
				v.ValueFrom = &EnvVarSource{}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					v.ValueFrom.ConfigMapKeyRef = &KeyRef{Name: r.Name, Key: r.Key}
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					v.ValueFrom.SecretKeyRef = &KeyRef{Name: r.Name, Key: r.Key}
				}
			}
			s.Env = append(s.Env, v)
		}
		for _, e := range c.EnvFrom {
			switch {
			case e.ConfigMapRef != nil:
				s.EnvFrom = append(s.EnvFrom, EnvFrom{Kind: "ConfigMap", Name: e.ConfigMapRef.Name, Prefix: e.Prefix})
			case e.SecretRef != nil:
				s.EnvFrom = append(s.EnvFrom, EnvFrom{Kind: "Secret", Name: e.SecretRef.Name, Prefix: e.Prefix})
			}
		}
		if p := c.ReadinessProbe; p != nil && p.HTTPGet != nil {
			s.ReadinessPath = p.HTTPGet.Path
		}
		if p := c.LivenessProbe; p != nil && p.HTTPGet != nil {
			s.LivenessPath = p.HTTPGet.Path
		}
		s.Readiness = probeTiming(c.ReadinessProbe)
		s.Liveness = probeTiming(c.LivenessProbe)
		if r := c.Resources; r != nil {
			s.Resources = Resources{Requests: quantities(r.Requests), Limits: quantities(r.Limits)}
		}
	}
	return s
}

// probeTiming fills in the Kubernetes defaults for a probe's schedule
// (k8s.io/api core/v1 types.go, Probe), except a readiness periodSeconds left
// unset: Knative then probes aggressively until the container is ready
// (knative/serving pkg/queue/readiness/probe.go), so Period stays 0.
func probeTiming(p *rawProbe) ProbeTiming {
	t := ProbeTiming{Timeout: DefaultProbeTimeout, FailureThreshold: DefaultProbeFailureThreshold}
	if p == nil {
		return t
	}
	if p.PeriodSeconds != nil {
		t.Period = time.Duration(*p.PeriodSeconds) * time.Second
	}
	if p.TimeoutSeconds != nil {
		t.Timeout = time.Duration(*p.TimeoutSeconds) * time.Second
	}
	if p.FailureThreshold != nil {
		t.FailureThreshold = int(*p.FailureThreshold)
	}
	if p.InitialDelaySeconds != nil {
		t.InitialDelay = time.Duration(*p.InitialDelaySeconds) * time.Second
	}
	return t
}

// scaleInt reads the first of keys present in the annotations as an integer.
func scaleInt(ann map[string]string, keys ...string) (*int, error) {
	for _, k := range keys {
		v, ok := ann[k]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", v)
		}
		return &n, nil
	}
	return nil, nil
}

func quantities(m map[string]quantity) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func newKafkaSink(raw *rawKafkaSink, o origin) *KafkaSink {
	k := &KafkaSink{
		Name:             raw.Metadata.Name,
		Namespace:        raw.Metadata.Namespace,
		Topic:            raw.Spec.Topic,
		BootstrapServers: raw.Spec.BootstrapServers,
		ContentMode:      ContentModeBinary,
		origin:           o,
		raw:              raw,
	}
	if raw.Spec.ContentMode != nil {
		k.ContentMode = *raw.Spec.ContentMode
	}
	if a := raw.Spec.Auth; a != nil && a.Secret != nil && a.Secret.Ref != nil {
		k.AuthSecret = a.Secret.Ref.Name
	}
	return k
}

func newKafkaTopic(raw *rawKafkaTopic, o origin) *KafkaTopic {
	k := &KafkaTopic{
		Name:      raw.Metadata.Name,
		Namespace: raw.Metadata.Namespace,
		Cluster:   raw.Metadata.Labels[StrimziClusterLabel],
		Topic:     raw.Metadata.Name,
		origin:    o,
		raw:       raw,
	}
	if raw.Spec.TopicName != "" {
		k.Topic = raw.Spec.TopicName
	}
	if raw.Spec.Partitions != nil {
		k.Partitions = int(*raw.Spec.Partitions)
	}
	if raw.Spec.Replicas != nil {
		k.Replicas = int(*raw.Spec.Replicas)
	}
	if len(raw.Spec.Config) > 0 {
		k.Config = make(map[string]string, len(raw.Spec.Config))
		for key, v := range raw.Spec.Config {
			k.Config[key] = configValue(v)
		}
	}
	return k
}

// configValue is a topic config value as Kafka takes it: a YAML string as is,
// a number or a boolean as written (7776000000 stays exact, never a float).
func configValue(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

func newKafkaSource(raw *rawKafkaSource, o origin) *KafkaSource {
	k := &KafkaSource{
		Name:             raw.Metadata.Name,
		Namespace:        raw.Metadata.Namespace,
		Labels:           raw.Metadata.Labels,
		KeyType:          raw.Metadata.Labels[KeyTypeLabel],
		Topics:           raw.Spec.Topics,
		BootstrapServers: raw.Spec.BootstrapServers,
		ConsumerGroup:    raw.Spec.ConsumerGroup,
		InitialOffset:    OffsetLatest,
		Ordering:         Ordered,
		Consumers:        1,
		Sink:             destination(raw.Spec.Sink),
		Delivery: Delivery{
			Retry:         DefaultDeliveryRetry,
			BackoffPolicy: BackoffExponential,
			BackoffDelay:  DefaultDeliveryBackoffDelay,
			Timeout:       DefaultDeliveryTimeout,
		},
		Net:    newKafkaNet(raw.Spec.Net),
		origin: o,
		raw:    raw,
	}
	if raw.Spec.InitialOffset != nil {
		k.InitialOffset = *raw.Spec.InitialOffset
	}
	if raw.Spec.Ordering != nil {
		k.Ordering = *raw.Spec.Ordering
	}
	if raw.Spec.Consumers != nil {
		k.Consumers = int(*raw.Spec.Consumers)
	}
	if d := raw.Spec.Delivery; d != nil {
		if d.Retry != nil {
			k.Delivery.Retry = int(*d.Retry)
		}
		if d.BackoffPolicy != nil {
			k.Delivery.BackoffPolicy = *d.BackoffPolicy
		}
		if d.BackoffDelay != nil {
			if v, err := ParseISO8601Duration(*d.BackoffDelay); err == nil {
				k.Delivery.BackoffDelay = v
			}
		}
		if d.Timeout != nil {
			if v, err := ParseISO8601Duration(*d.Timeout); err == nil {
				k.Delivery.Timeout = v
			}
		}
		if d.DeadLetterSink != nil {
			dls := destination(d.DeadLetterSink)
			k.Delivery.DeadLetterSink = &dls
		}
	}
	return k
}

func newSinkBinding(raw *rawSinkBinding, o origin) *SinkBinding {
	b := &SinkBinding{
		Name:      raw.Metadata.Name,
		Namespace: raw.Metadata.Namespace,
		Sink:      destination(raw.Spec.Sink),
		origin:    o,
		raw:       raw,
	}
	if s := raw.Spec.Subject; s != nil {
		b.Subject = ObjectRef{APIVersion: s.APIVersion, Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}
	}
	if c := raw.Spec.CEOverrides; c != nil {
		b.CEOverrides = c.Extensions
	}
	return b
}

func newPingSource(raw *rawPingSource, o origin) *PingSource {
	return &PingSource{
		Name:        raw.Metadata.Name,
		Namespace:   raw.Metadata.Namespace,
		Schedule:    raw.Spec.Schedule,
		Timezone:    raw.Spec.Timezone,
		ContentType: raw.Spec.ContentType,
		Data:        raw.Spec.Data,
		Sink:        destination(raw.Spec.Sink),
		origin:      o,
		raw:         raw,
	}
}

func destination(raw *rawDestination) Destination {
	if raw == nil {
		return Destination{}
	}
	d := Destination{URI: raw.URI}
	if r := raw.Ref; r != nil {
		d.Ref = &ObjectRef{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace}
	}
	return d
}
