package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Limits from Knative's config-defaults and autoscaler validation.
const (
	maxContainerConcurrency = 1000
	maxTimeoutSeconds       = 600
	minWindow               = 6 * time.Second
	maxWindow               = time.Hour
)

// knownAutoscalingAnnotations are the autoscaling.knative.dev/* keys Knative
// reads; anything else under that prefix is a typo that Knative would ignore.
var knownAutoscalingAnnotations = map[string]bool{
	"autoscaling.knative.dev/class":                              true,
	"autoscaling.knative.dev/metric":                             true,
	"autoscaling.knative.dev/min-scale":                          true,
	"autoscaling.knative.dev/max-scale":                          true,
	"autoscaling.knative.dev/minScale":                           true,
	"autoscaling.knative.dev/maxScale":                           true,
	"autoscaling.knative.dev/initial-scale":                      true,
	"autoscaling.knative.dev/initialScale":                       true,
	"autoscaling.knative.dev/activation-scale":                   true,
	"autoscaling.knative.dev/target":                             true,
	"autoscaling.knative.dev/target-utilization-percentage":      true,
	"autoscaling.knative.dev/target-burst-capacity":              true,
	"autoscaling.knative.dev/window":                             true,
	"autoscaling.knative.dev/panic-window-percentage":            true,
	"autoscaling.knative.dev/panic-threshold-percentage":         true,
	"autoscaling.knative.dev/scale-down-delay":                   true,
	"autoscaling.knative.dev/scale-to-zero-pod-retention-period": true,
}

var dns1035 = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// checkName reports a metadata.name that is not a DNS-1035 label.
// problems collects a check's findings; a nil error is no finding.
type problems []error

func (p *problems) add(err error) {
	if err != nil {
		*p = append(*p, err)
	}
}

// meta starts an object's check with the rules every object shares.
func meta(o origin, name, namespace string) problems {
	var p problems
	p.add(checkName(o, name))
	p.add(checkNamespace(o, namespace))
	return p
}

func checkName(o origin, name string) error {
	if name == "" {
		return o.errorf("metadata.name", "required")
	}
	if len(name) > 63 || !dns1035.MatchString(name) {
		return o.errorf("metadata.name", "%q is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters)", name)
	}
	return nil
}

func checkNamespace(o origin, ns string) error {
	if ns == "" {
		return o.errorf("metadata.namespace", "required (the local stack and the KafkaSink ingress path use it)")
	}
	if len(ns) > 63 || !dns1035.MatchString(ns) {
		return o.errorf("metadata.namespace", "%q is not a valid namespace", ns)
	}
	return nil
}

// Check applies our rules to the loaded topology: required fields, enums,
// ISO-8601 durations, ranges, names, cron schedules, and that every reference
// (sink, deadLetterSink, SinkBinding subject) resolves to an object we ship with
// the right apiVersion and kind. It returns every problem, joined.
func (t *Topology) Check() error {
	var errs problems
	add := errs.add
	seen := map[kindKey]map[string]origin{}
	unique := func(o origin, apiVersion, name string) {
		k := kindKey{apiVersion, o.kind}
		if seen[k] == nil {
			seen[k] = map[string]origin{}
		}
		if prev, dup := seen[k][name]; dup && name != "" {
			add(o.errorf("metadata.name", "%s %q is also defined in %s:%d", o.kind, name, prev.file, prev.line))
			return
		}
		seen[k][name] = o
	}

	for _, s := range t.Services {
		unique(s.origin, ServingV1, s.Name)
		for _, e := range t.checkService(s) {
			add(e)
		}
	}
	for _, k := range t.KafkaSinks {
		unique(k.origin, EventingV1Alpha1, k.Name)
		for _, e := range t.checkKafkaSink(k) {
			add(e)
		}
	}
	groups := map[string]*KafkaSource{}
	for _, k := range t.KafkaSources {
		unique(k.origin, SourcesV1, k.Name)
		for _, e := range t.checkKafkaSource(k) {
			add(e)
		}
		if g := k.ConsumerGroup; g != "" {
			if prev, dup := groups[g]; dup {
				add(k.errorf("spec.consumerGroup", "%q is also used by KafkaSource %s; two sources in one group would split the records between them", g, prev.Name))
			}
			groups[g] = k
		}
	}
	subjects := map[string]*SinkBinding{}
	for _, b := range t.SinkBindings {
		unique(b.origin, SourcesV1, b.Name)
		for _, e := range t.checkSinkBinding(b) {
			add(e)
		}
		key := b.Subject.APIVersion + "/" + b.Subject.Kind + "/" + b.Subject.Name
		if prev, dup := subjects[key]; dup && b.Subject.Name != "" {
			add(b.errorf("spec.subject", "%s is already bound by SinkBinding %s; a Service gets one K_SINK, so one SinkBinding", b.Subject, prev.Name))
		}
		subjects[key] = b
	}
	for _, p := range t.PingSources {
		unique(p.origin, SourcesV1, p.Name)
		for _, e := range t.checkPingSource(p) {
			add(e)
		}
	}
	topics := map[string]*KafkaTopic{}
	for _, k := range t.KafkaTopics {
		unique(k.origin, StrimziV1Beta2, k.Name)
		for _, e := range t.checkKafkaTopic(k) {
			add(e)
		}
		if prev, dup := topics[k.Topic]; dup && k.Topic != "" {
			add(k.errorf("metadata.name", "topic %q is also declared by KafkaTopic %s", k.Topic, prev.Name))
		}
		topics[k.Topic] = k
	}
	for _, u := range t.KafkaUsers {
		unique(u.origin, StrimziV1, u.Name)
		for _, e := range t.checkKafkaUser(u) {
			add(e)
		}
	}
	for _, e := range t.checkKafkaAccess() {
		add(e)
	}
	return errors.Join(errs...)
}

func (t *Topology) checkService(s *Service) []error {
	o := s.origin
	errs := meta(o, s.Name, s.Namespace)
	add := errs.add

	// Autoscaling annotations only work per revision.
	for _, k := range sortedKeys(s.Annotations) {
		if strings.HasPrefix(k, "autoscaling.knative.dev/") {
			add(o.errorf("metadata.annotations."+k, "autoscaling annotations belong on spec.template.metadata.annotations; Knative ignores them here"))
		}
	}
	const annPath = "spec.template.metadata.annotations."
	ann := s.TemplateAnnotations
	for _, k := range sortedKeys(ann) {
		if strings.HasPrefix(k, "autoscaling.knative.dev/") && !knownAutoscalingAnnotations[k] {
			add(o.errorf(annPath+k, "unknown autoscaling annotation (typo?); Knative would ignore it"))
		}
	}
	minScale, err := scaleInt(ann, AnnotationMinScale, "autoscaling.knative.dev/minScale")
	switch {
	case err != nil:
		add(o.errorf(annPath+AnnotationMinScale, "%v", err))
	case minScale == nil:
		add(o.errorf(annPath+AnnotationMinScale, "required (every Service states whether it scales to zero)"))
	case *minScale < 0:
		add(o.errorf(annPath+AnnotationMinScale, "must be >= 0, got %d", *minScale))
	}
	maxScale, err := scaleInt(ann, AnnotationMaxScale, "autoscaling.knative.dev/maxScale")
	switch {
	case err != nil:
		add(o.errorf(annPath+AnnotationMaxScale, "%v", err))
	case maxScale == nil:
		add(o.errorf(annPath+AnnotationMaxScale, "required (an upper bound protects Postgres and Kafka)"))
	case *maxScale < 0:
		add(o.errorf(annPath+AnnotationMaxScale, "must be >= 0 (0 = unlimited), got %d", *maxScale))
	case minScale != nil && *maxScale != 0 && *maxScale < *minScale:
		add(o.errorf(annPath+AnnotationMaxScale, "%d is below min-scale %d", *maxScale, *minScale))
	}
	target, err := scaleInt(ann, AnnotationTarget)
	switch {
	case err != nil:
		add(o.errorf(annPath+AnnotationTarget, "%v", err))
	case target == nil:
		add(o.errorf(annPath+AnnotationTarget, "required"))
	case *target < 1:
		add(o.errorf(annPath+AnnotationTarget, "must be >= 1, got %d", *target))
	}
	_, hasWindow := ann[AnnotationWindow]
	_, hasRetention := ann[AnnotationScaleToZeroRetention]
	if !hasWindow && !hasRetention {
		add(o.errorf(annPath+AnnotationScaleToZeroRetention, "required (or %s): say how long an idle Service keeps its last instance", AnnotationWindow))
	}
	if v, ok := ann[AnnotationWindow]; ok {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			add(o.errorf(annPath+AnnotationWindow, "%q is not a duration like 60s", v))
		case d < minWindow || d > maxWindow:
			add(o.errorf(annPath+AnnotationWindow, "%s is outside Knative's range %s..%s", d, minWindow, maxWindow))
		}
	}
	if v, ok := ann[AnnotationScaleToZeroRetention]; ok {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			add(o.errorf(annPath+AnnotationScaleToZeroRetention, "%q is not a duration like 0s or 5m", v))
		case d < 0:
			add(o.errorf(annPath+AnnotationScaleToZeroRetention, "must not be negative"))
		}
	}

	spec := s.raw.Spec.Template.Spec
	switch cc := spec.ContainerConcurrency; {
	case cc == nil:
		add(o.errorf("spec.template.spec.containerConcurrency", "required (0 = unlimited)"))
	case *cc < 0 || *cc > maxContainerConcurrency:
		add(o.errorf("spec.template.spec.containerConcurrency", "%d is outside 0..%d", *cc, maxContainerConcurrency))
	}
	switch ts := spec.TimeoutSeconds; {
	case ts == nil:
		add(o.errorf("spec.template.spec.timeoutSeconds", "required"))
	case *ts < 1 || *ts > maxTimeoutSeconds:
		add(o.errorf("spec.template.spec.timeoutSeconds", "%d is outside 1..%d", *ts, maxTimeoutSeconds))
	}

	if len(spec.Containers) != 1 {
		add(o.errorf("spec.template.spec.containers", "want exactly one container, got %d", len(spec.Containers)))
		return errs
	}
	c := spec.Containers[0]
	const cp = "spec.template.spec.containers[0]."
	if c.Image == "" {
		add(o.errorf(cp+"image", "required"))
	} else if s.ImportPath() == "" && strings.HasPrefix(c.Image, "ko://") {
		add(o.errorf(cp+"image", "ko:// needs an import path after it"))
	} else if s.ImportPath() == "" {
		add(o.errorf(cp+"image", "%q is not a ko:// import path; the local stack builds images from Go source", c.Image))
	}
	if len(c.Ports) > 1 {
		add(o.errorf(cp+"ports", "Knative allows one port, got %d", len(c.Ports)))
	}
	for i, p := range c.Ports {
		f := fmt.Sprintf("%sports[%d]", cp, i)
		if p.Name != "" && p.Name != "http1" && p.Name != "h2c" {
			add(o.errorf(f+".name", "%q: Knative accepts only http1 or h2c", p.Name))
		}
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			add(o.errorf(f+".containerPort", "%d is not a port", p.ContainerPort))
		}
		if p.Protocol != "" && p.Protocol != "TCP" {
			add(o.errorf(f+".protocol", "%q: Knative serves TCP only", p.Protocol))
		}
	}
	names := map[string]bool{}
	for i, e := range c.Env {
		f := fmt.Sprintf("%senv[%d]", cp, i)
		if e.Name == "" {
			add(o.errorf(f+".name", "required"))
		} else if names[e.Name] {
			add(o.errorf(f+".name", "%q is set twice", e.Name))
		}
		names[e.Name] = true
		if e.ValueFrom != nil {
			if e.Value != "" {
				add(o.errorf(f, "value and valueFrom are exclusive"))
			}
			n := 0
			for _, r := range []*rawKeyRef{e.ValueFrom.ConfigMapKeyRef, e.ValueFrom.SecretKeyRef} {
				if r != nil {
					n++
					if r.Name == "" || r.Key == "" {
						add(o.errorf(f+".valueFrom", "name and key are required"))
					}
				}
			}
			if n != 1 {
				add(o.errorf(f+".valueFrom", "set exactly one of configMapKeyRef and secretKeyRef"))
			}
		}
	}
	for i, e := range c.EnvFrom {
		f := fmt.Sprintf("%senvFrom[%d]", cp, i)
		switch {
		case (e.ConfigMapRef == nil) == (e.SecretRef == nil):
			add(o.errorf(f, "set exactly one of configMapRef and secretRef"))
		case e.ConfigMapRef != nil && e.ConfigMapRef.Name == "":
			add(o.errorf(f+".configMapRef.name", "required"))
		case e.SecretRef != nil && e.SecretRef.Name == "":
			add(o.errorf(f+".secretRef.name", "required"))
		}
	}
	for _, p := range []struct {
		field string
		probe *rawProbe
	}{{"readinessProbe", c.ReadinessProbe}, {"livenessProbe", c.LivenessProbe}} {
		switch {
		case p.probe == nil:
			add(o.errorf(cp+p.field, "required (every function serves a health endpoint)"))
		case p.probe.HTTPGet == nil:
			add(o.errorf(cp+p.field+".httpGet", "required (the local stack probes over HTTP)"))
		case !strings.HasPrefix(p.probe.HTTPGet.Path, "/"):
			add(o.errorf(cp+p.field+".httpGet.path", "want an absolute path such as /healthz, got %q", p.probe.HTTPGet.Path))
		}
		if p.probe != nil && p.probe.HTTPGet != nil && p.probe.HTTPGet.Port != nil {
			if port := string(*p.probe.HTTPGet.Port); port != strconv.Itoa(s.Port) {
				add(o.errorf(cp+p.field+".httpGet.port", "%s is not the serving port %d; leave it unset", port, s.Port))
			}
		}
	}
	return errs
}

func (t *Topology) checkKafkaSink(k *KafkaSink) []error {
	o := k.origin
	errs := meta(o, k.Name, k.Namespace)
	add := errs.add
	if k.Topic == "" {
		add(o.errorf("spec.topic", "required"))
	} else {
		add(checkTopicName(o, "spec.topic", k.Topic))
	}
	for _, e := range checkBootstrap(o, k.BootstrapServers) {
		add(e)
	}
	if m := k.raw.Spec.ContentMode; m != nil && *m != ContentModeBinary && *m != ContentModeStructured {
		add(o.errorf("spec.contentMode", "%q: want binary or structured", *m))
	}
	// With both set, the KafkaSink controller owns the topic and deletes it with
	// the sink (eventing-kafka-broker,
	// control-plane/pkg/reconciler/sink/kafka_sink.go); with neither it is
	// external. Our topics are KafkaTopics, so neither is allowed.
	for _, f := range []struct {
		name string
		set  bool
	}{{"numPartitions", k.raw.Spec.NumPartitions != nil}, {"replicationFactor", k.raw.Spec.ReplicationFactor != nil}} {
		if f.set {
			add(o.errorf("spec."+f.name, "remove it: declare the topic as a KafkaTopic; with numPartitions and replicationFactor the KafkaSink owns its topic and deletes it when the sink is deleted"))
		}
	}
	if k.Topic != "" && t.KafkaTopic(k.Topic) == nil {
		add(o.errorf("spec.topic", "%q is not declared by any KafkaTopic (the sink expects an existing topic)", k.Topic))
	}
	return errs
}

// Our rules for topics, stricter than Strimzi's schema.
const (
	maxReplicas = 32767 // the KafkaTopic CRD's maximum
	// minDeadLetterRetention is how long a dead letter must wait for its replay.
	minDeadLetterRetention = 30 * 24 * time.Hour
)

// dns1123Subdomain is a Kubernetes object name that may hold dots, as a
// KafkaTopic named after its topic does.
var dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// checkKafkaTopic applies our rules to a KafkaTopic: it names its cluster,
// states partitions and replicas, keeps a topic writable through the loss of
// one replica (1 <= min.insync.replicas < replicas), is written by a KafkaSink
// we ship, and, when it is a dead-letter topic, keeps records long enough to be
// replayed.
func (t *Topology) checkKafkaTopic(k *KafkaTopic) []error {
	o := k.origin
	var errs problems
	add := errs.add
	switch {
	case k.Name == "":
		add(o.errorf("metadata.name", "required"))
	case len(k.Name) > 253 || !dns1123Subdomain.MatchString(k.Name):
		add(o.errorf("metadata.name", "%q is not a Kubernetes object name (lower-case letters, digits, '-' and '.'); set spec.topicName for such a topic", k.Name))
	}
	add(checkNamespace(o, k.Namespace))
	if k.Cluster == "" {
		add(o.errorf("metadata.labels."+StrimziClusterLabel, "required: the Topic Operator manages only topics labelled with its Kafka cluster's name"))
	}
	if k.Topic != "" {
		add(checkTopicName(o, "spec.topicName", k.Topic))
	}
	spec := k.raw.Spec
	switch p := spec.Partitions; {
	case p == nil:
		add(o.errorf("spec.partitions", "required (the partition count bounds the ordered consumers' parallelism; it can grow, never shrink)"))
	case *p < 1:
		add(o.errorf("spec.partitions", "must be >= 1, got %d", *p))
	}
	switch r := spec.Replicas; {
	case r == nil:
		add(o.errorf("spec.replicas", "required"))
	case *r < 1 || *r > maxReplicas:
		add(o.errorf("spec.replicas", "%d is outside 1..%d", *r, maxReplicas))
	}
	const isr = "min.insync.replicas"
	if v, ok := k.Config[isr]; !ok {
		add(o.errorf("spec.config."+isr, "required: with acks=all it decides how many brokers hold an accepted event"))
	} else if n, err := strconv.Atoi(v); err != nil {
		add(o.errorf("spec.config."+isr, "%q is not an integer", v))
	} else if spec.Replicas != nil && (n < 1 || n >= int(*spec.Replicas)) {
		add(o.errorf("spec.config."+isr, "%d: want 1..%d (below replicas %d, so the topic stays writable when one replica is down)", n, *spec.Replicas-1, *spec.Replicas))
	}
	retention, hasRetention := k.Config["retention.ms"]
	if hasRetention {
		if n, err := strconv.ParseInt(retention, 10, 64); err != nil || n < -1 {
			add(o.errorf("spec.config.retention.ms", "%q: want milliseconds, or -1 to keep records forever", retention))
		}
	}
	if k.Topic != "" && len(t.KafkaSinksForTopic(k.Topic)) == 0 {
		add(o.errorf("metadata.name", "no KafkaSink we ship writes topic %q (a stray topic, or a typo)", k.Topic))
	}
	if src := t.deadLetterSourceFor(k.Topic); src != nil {
		ms, _ := strconv.ParseInt(retention, 10, 64)
		if !hasRetention || (ms != -1 && time.Duration(ms)*time.Millisecond < minDeadLetterRetention) {
			add(o.errorf("spec.config.retention.ms", "the dead-letter topic of KafkaSource %s must keep records at least %s (or -1, forever), so they wait for a replay; Kafka's default is 7 days", src.Name, minDeadLetterRetention))
		}
	}
	return errs
}

// deadLetterSourceFor returns a KafkaSource whose dead-letter sink writes topic,
// or nil.
func (t *Topology) deadLetterSourceFor(topic string) *KafkaSource {
	for _, src := range t.KafkaSources {
		if d := src.Delivery.DeadLetterSink; d != nil {
			if k := t.KafkaSinkFor(*d); k != nil && k.Topic == topic {
				return src
			}
		}
	}
	return nil
}

// topicName is Kafka's legal topic character set.
var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func checkTopicName(o origin, field, topic string) error {
	if !topicName.MatchString(topic) || topic == "." || topic == ".." {
		return o.errorf(field, "%q is not a legal Kafka topic name", topic)
	}
	return nil
}

func checkBootstrap(o origin, servers []string) []error {
	if len(servers) == 0 {
		return []error{o.errorf("spec.bootstrapServers", "required")}
	}
	var errs []error
	for i, s := range servers {
		host, port, err := net.SplitHostPort(s)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16)
		}
		if err != nil || host == "" {
			errs = append(errs, o.errorf(fmt.Sprintf("spec.bootstrapServers[%d]", i), "%q is not host:port", s))
		}
	}
	return errs
}

var keyTypes = map[string]bool{"string": true, "int": true, "float": true, "byte-array": true}

func (t *Topology) checkKafkaSource(k *KafkaSource) []error {
	o := k.origin
	errs := meta(o, k.Name, k.Namespace)
	add := errs.add
	labelField := "metadata.labels." + KeyTypeLabel
	if v, ok := k.Labels[KeyTypeLabel]; !ok {
		add(o.errorf(labelField, "required: say how record keys are decoded (our keys are user ids: string)"))
	} else if !keyTypes[v] {
		add(o.errorf(labelField, "%q: want string, int, float or byte-array", v))
	}
	spec := k.raw.Spec
	for _, e := range checkBootstrap(o, spec.BootstrapServers) {
		add(e)
	}
	if len(spec.Topics) == 0 {
		add(o.errorf("spec.topics", "required"))
	}
	for i, topic := range spec.Topics {
		f := fmt.Sprintf("spec.topics[%d]", i)
		if err := checkTopicName(o, f, topic); err != nil {
			add(err)
			continue
		}
		if len(t.KafkaSinksForTopic(topic)) == 0 {
			add(o.errorf(f, "no KafkaSink we ship writes topic %q (missing sink, or a typo in the topic)", topic))
		}
		if t.KafkaTopic(topic) == nil {
			add(o.errorf(f, "%q is not declared by any KafkaTopic", topic))
		}
		// A letter is an event its consumer failed on: re-driving it anywhere
		// else would hand it to a function that never subscribed to its type.
		if from := t.DeadLetteredInto(topic); from != nil && from != k {
			if want, got := t.ServiceFor(from.Sink), t.ServiceFor(k.Sink); want == nil || got != want {
				add(o.errorf(f, "%q holds KafkaSource %s's dead letters; a source that re-drives them must deliver to that source's Service", topic, from.Name))
			}
		}
	}
	if spec.ConsumerGroup == "" {
		add(o.errorf("spec.consumerGroup", "required: the default is a random group, so a recreated source would lose its offsets"))
	}
	switch v := spec.InitialOffset; {
	case v == nil:
		add(o.errorf("spec.initialOffset", "required (earliest or latest)"))
	case *v != OffsetEarliest && *v != OffsetLatest:
		add(o.errorf("spec.initialOffset", "%q: want earliest or latest", *v))
	}
	switch v := spec.Ordering; {
	case v == nil:
		add(o.errorf("spec.ordering", "required (ordered or unordered): it decides what a failing event blocks"))
	case *v != Ordered && *v != Unordered:
		add(o.errorf("spec.ordering", "%q: want ordered or unordered", *v))
	}
	if c := spec.Consumers; c != nil && *c < 1 {
		add(o.errorf("spec.consumers", "must be >= 1, got %d", *c))
	}
	if spec.Sink == nil {
		add(o.errorf("spec.sink", "required"))
	} else {
		add(t.checkDestination(o, "spec.sink", k.Namespace, k.Sink))
	}

	d := spec.Delivery
	if d == nil {
		add(o.errorf("spec.delivery", "required: retry, backoffPolicy, backoffDelay, timeout and deadLetterSink, so failures are never dropped silently"))
		return errs
	}
	switch {
	case d.Retry == nil:
		add(o.errorf("spec.delivery.retry", "required"))
	case *d.Retry < 0:
		add(o.errorf("spec.delivery.retry", "must be >= 0, got %d", *d.Retry))
	}
	switch {
	case d.BackoffPolicy == nil:
		add(o.errorf("spec.delivery.backoffPolicy", "required (linear or exponential)"))
	case *d.BackoffPolicy != BackoffLinear && *d.BackoffPolicy != BackoffExponential:
		add(o.errorf("spec.delivery.backoffPolicy", "%q: want linear or exponential", *d.BackoffPolicy))
	}
	for _, f := range []struct {
		name  string
		value *string
	}{{"backoffDelay", d.BackoffDelay}, {"timeout", d.Timeout}} {
		if f.value == nil {
			add(o.errorf("spec.delivery."+f.name, "required (an ISO-8601 duration such as PT0.5S)"))
			continue
		}
		v, err := ParseISO8601Duration(*f.value)
		switch {
		case err != nil:
			add(o.errorf("spec.delivery."+f.name, "%v", err))
		case f.name == "timeout" && v <= 0:
			add(o.errorf("spec.delivery.timeout", "must be > 0"))
		case f.name == "timeout":
			if svc := t.ServiceFor(k.Sink); svc != nil && v > svc.Timeout {
				add(o.errorf("spec.delivery.timeout", "%s is longer than Service %s's timeoutSeconds (%s), which would cut the request first", v, svc.Name, svc.Timeout))
			}
		}
	}
	if d.DeadLetterSink == nil {
		add(o.errorf("spec.delivery.deadLetterSink", "required: without one a failed event is committed and dropped"))
	} else {
		add(t.checkDestination(o, "spec.delivery.deadLetterSink", k.Namespace, *k.Delivery.DeadLetterSink))
		if dls := t.KafkaSinkFor(*k.Delivery.DeadLetterSink); dls != nil {
			for _, topic := range k.Topics {
				if dls.Topic == topic {
					add(o.errorf("spec.delivery.deadLetterSink", "KafkaSink %s writes %q, a topic this source reads: a poison event would loop forever", dls.Name, topic))
				}
			}
		}
	}
	return errs
}

func (t *Topology) checkSinkBinding(b *SinkBinding) []error {
	o := b.origin
	errs := meta(o, b.Name, b.Namespace)
	add := errs.add
	if b.raw.Spec.Subject == nil {
		add(o.errorf("spec.subject", "required"))
	} else {
		s := b.Subject
		switch {
		case s.APIVersion == "" || s.Kind == "" || s.Name == "":
			add(o.errorf("spec.subject", "apiVersion, kind and name are required"))
		case s.Namespace != "" && s.Namespace != b.Namespace:
			add(o.errorf("spec.subject.namespace", "%q: a SinkBinding only binds objects in its own namespace %q", s.Namespace, b.Namespace))
		case s.APIVersion != ServingV1 || s.Kind != "Service":
			add(o.errorf("spec.subject", "%s: we bind only Knative Services (%s Service)", s, ServingV1))
		case t.Service(s.Name) == nil:
			add(o.errorf("spec.subject.name", "no Service %q in the manifests", s.Name))
		}
	}
	if b.raw.Spec.Sink == nil {
		add(o.errorf("spec.sink", "required"))
	} else {
		add(t.checkDestination(o, "spec.sink", b.Namespace, b.Sink))
	}
	return errs
}

func (t *Topology) checkPingSource(p *PingSource) []error {
	o := p.origin
	errs := meta(o, p.Name, p.Namespace)
	add := errs.add
	if p.Schedule == "" {
		add(o.errorf("spec.schedule", "required"))
	} else if _, err := cron.ParseStandard(p.Schedule); err != nil {
		add(o.errorf("spec.schedule", "%q: %v", p.Schedule, err))
	}
	if p.Timezone != "" {
		if _, err := time.LoadLocation(p.Timezone); err != nil {
			add(o.errorf("spec.timezone", "%q is not an IANA time zone: %v", p.Timezone, err))
		}
	}
	if p.ContentType != "" {
		mt, _, err := mime.ParseMediaType(p.ContentType)
		if err != nil {
			add(o.errorf("spec.contentType", "%q: %v", p.ContentType, err))
		} else if mt == "application/json" && p.Data != "" && !json.Valid([]byte(p.Data)) {
			add(o.errorf("spec.data", "not valid JSON, but contentType is application/json"))
		}
	}
	if p.raw.Spec.Sink == nil {
		add(o.errorf("spec.sink", "required"))
	} else {
		add(t.checkDestination(o, "spec.sink", p.Namespace, p.Sink))
	}
	return errs
}

// checkDestination reports a sink that is empty, or whose ref does not resolve to
// an addressable object we ship (a Service or a KafkaSink) with that apiVersion.
func (t *Topology) checkDestination(o origin, field, ns string, d Destination) error {
	if d.Ref == nil {
		if d.URI == "" {
			return o.errorf(field, "set ref or uri")
		}
		u, err := url.Parse(d.URI)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return o.errorf(field+".uri", "%q is not an absolute URL (a uri without ref must be one)", d.URI)
		}
		return nil
	}
	r := *d.Ref
	if r.APIVersion == "" || r.Kind == "" || r.Name == "" {
		return o.errorf(field+".ref", "apiVersion, kind and name are required")
	}
	if r.Namespace != "" && r.Namespace != ns {
		return o.errorf(field+".ref.namespace", "%q: everything we ship lives in %q", r.Namespace, ns)
	}
	if d.URI != "" {
		if u, err := url.Parse(d.URI); err != nil || u.IsAbs() {
			return o.errorf(field+".uri", "%q: with a ref, uri must be a relative path", d.URI)
		}
	}
	var found string // the apiVersion we ship the target under
	switch r.Kind {
	case "Service":
		if s := t.Service(r.Name); s != nil {
			found = ServingV1
			if s.Namespace != ns {
				return o.errorf(field+".ref", "Service %s is in namespace %q, not %q", r.Name, s.Namespace, ns)
			}
		}
	case "KafkaSink":
		if k := t.KafkaSink(r.Name); k != nil {
			found = EventingV1Alpha1
			if k.Namespace != ns {
				return o.errorf(field+".ref", "KafkaSink %s is in namespace %q, not %q", r.Name, k.Namespace, ns)
			}
		}
	case "KafkaSource", "SinkBinding", "PingSource":
		return o.errorf(field+".ref", "%s is not addressable; a sink must be a Service or a KafkaSink", r)
	default:
		return o.errorf(field+".ref.kind", "%q: we ship no such kind (a sink is a Service or a KafkaSink)", r.Kind)
	}
	switch {
	case found == "":
		return o.errorf(field+".ref.name", "no %s %q in the manifests", r.Kind, r.Name)
	case r.APIVersion != found:
		return o.errorf(field+".ref.apiVersion", "%q: we ship %s %s as %s", r.APIVersion, r.Kind, r.Name, found)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
