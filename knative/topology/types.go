// Package topology loads and checks the Knative manifests in knative/ (Services,
// KafkaSinks, KafkaSources, SinkBindings, PingSources, the Strimzi
// KafkaTopics they write and read and the KafkaUsers they do it as) and the Gateway API
// HTTPRoute in infra/cluster/. It is the one description of the topology: the
// local stack runs what Load returns, and a cluster applies the same files.
//
// Load decodes strictly (an unknown or misspelt field is an error naming the
// file, object and field) and applies Knative's defaults; Check applies our own
// rules and cross-object references. Call both:
//
//	topo, err := topology.Load("knative")
//	if err == nil { err = topo.Check() }
package topology

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// API versions of the kinds we ship.
const (
	ServingV1        = "serving.knative.dev/v1"
	EventingV1Alpha1 = "eventing.knative.dev/v1alpha1"
	SourcesV1        = "sources.knative.dev/v1"
	GatewayV1        = "gateway.networking.k8s.io/v1"
	StrimziV1Beta2   = "kafka.strimzi.io/v1beta2"
)

// Enum values used by the manifests.
const (
	ContentModeBinary     = "binary"
	ContentModeStructured = "structured"
	OffsetEarliest        = "earliest"
	OffsetLatest          = "latest"
	Ordered               = "ordered"
	Unordered             = "unordered"
	BackoffLinear         = "linear"
	BackoffExponential    = "exponential"

	// KeyTypeLabel on a KafkaSource says how the dispatcher decodes record keys.
	KeyTypeLabel = "kafkasources.sources.knative.dev/key-type"

	// StrimziClusterLabel on a KafkaTopic names the Kafka cluster whose Topic
	// Operator manages it.
	StrimziClusterLabel = "strimzi.io/cluster"
)

// Autoscaling annotation keys (on spec.template.metadata.annotations).
const (
	AnnotationMinScale             = "autoscaling.knative.dev/min-scale"
	AnnotationMaxScale             = "autoscaling.knative.dev/max-scale"
	AnnotationTarget               = "autoscaling.knative.dev/target"
	AnnotationWindow               = "autoscaling.knative.dev/window"
	AnnotationScaleToZeroRetention = "autoscaling.knative.dev/scale-to-zero-pod-retention-period"
)

// Knative defaults applied when a field or annotation is absent.
const (
	DefaultTarget  = 100               // container-concurrency-target-default
	DefaultTimeout = 300 * time.Second // revision-timeout-seconds
	DefaultWindow  = 60 * time.Second  // stable-window

	// DefaultScaleToZeroGracePeriod is config-autoscaler's
	// scale-to-zero-grace-period (knative/serving
	// config/core/configmaps/autoscaler.yaml).
	DefaultScaleToZeroGracePeriod = 30 * time.Second
	DefaultPort                   = 8080 // the PORT Knative gives a container with no port set

	// Defaults of the KafkaSource reconciler for a source without a delivery
	// block (eventing-kafka-broker control-plane/pkg/reconciler/source/source.go).
	DefaultDeliveryRetry        = 10
	DefaultDeliveryBackoffDelay = 300 * time.Millisecond
	DefaultDeliveryTimeout      = 600 * time.Second

	// Kubernetes probe defaults (k8s.io/api core/v1 types.go, Probe).
	DefaultProbePeriod           = 10 * time.Second
	DefaultProbeTimeout          = time.Second
	DefaultProbeFailureThreshold = 3
)

// Topology is everything in knative/*.yaml.
type Topology struct {
	Dir          string
	Services     []*Service
	KafkaSinks   []*KafkaSink
	KafkaSources []*KafkaSource
	SinkBindings []*SinkBinding
	PingSources  []*PingSource
	KafkaTopics  []*KafkaTopic
	// EventPolicies say who may send to the KafkaSinks (knative/eventpolicies.yaml).
	EventPolicies []*EventPolicy
	// KafkaUsers are the principals of the Kafka cluster and their ACLs
	// (knative/kafkausers.yaml).
	KafkaUsers []*KafkaUser
}

// ObjectRef points at another object (a sink, a dead-letter sink, a binding
// subject). An empty Namespace means the referrer's namespace.
type ObjectRef struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
}

func (r ObjectRef) String() string {
	s := r.Kind + " " + r.Name
	if r.Namespace != "" {
		s = r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return s + " (" + r.APIVersion + ")"
}

// Destination is Knative's duck-typed sink: an object reference, a URI, or both
// (then the URI is resolved against the object's address).
type Destination struct {
	Ref *ObjectRef
	URI string
}

// EnvVar is one container environment variable.
type EnvVar struct {
	Name      string
	Value     string
	ValueFrom *EnvVarSource // set instead of Value when the value comes from a ConfigMap or Secret key
}

// EnvVarSource names one key of a ConfigMap or a Secret.
type EnvVarSource struct {
	ConfigMapKeyRef *KeyRef
	SecretKeyRef    *KeyRef
}

// KeyRef is one key in a ConfigMap or Secret.
type KeyRef struct {
	Name string
	Key  string
}

// EnvFrom imports every key of a ConfigMap or Secret as environment variables.
type EnvFrom struct {
	Kind   string // "ConfigMap" or "Secret"
	Name   string
	Prefix string
}

// Resources are the container's requests and limits, as written ("64Mi").
type Resources struct {
	Requests map[string]string
	Limits   map[string]string
}

// Service is a Knative Service with its single container. Zero-valued scale
// settings are filled with Knative's defaults by Load.
type Service struct {
	Name        string
	Namespace   string
	Labels      map[string]string
	Annotations map[string]string // the Service's own metadata.annotations

	// TemplateAnnotations are spec.template.metadata.annotations, where the
	// autoscaling settings below come from.
	TemplateAnnotations map[string]string

	ContainerName string
	Image         string // e.g. ko://github.com/tidings-dev/tidings/functions/signup
	Port          int    // containerPort, DefaultPort when unset
	Env           []EnvVar
	EnvFrom       []EnvFrom
	ReadinessPath string      // readinessProbe.httpGet.path, "" when there is none
	LivenessPath  string      // livenessProbe.httpGet.path, "" when there is none
	Readiness     ProbeTiming // readinessProbe's schedule; Period 0 = Knative's aggressive probing until ready
	Liveness      ProbeTiming // livenessProbe's schedule
	Resources     Resources
	// ServiceAccountName is the pod's identity ("" = the namespace's default).
	ServiceAccountName string
	// Tokens are the ServiceAccount tokens projected into the container.
	Tokens []TokenFile

	MinScale             int           // 0 = may scale to zero
	MaxScale             int           // 0 = unlimited
	Target               int           // soft concurrency target per instance
	ContainerConcurrency int           // hard limit per instance, 0 = unlimited
	Timeout              time.Duration // timeoutSeconds
	ScaleToZeroRetention time.Duration // keep the last instance this long after traffic stops
	Window               time.Duration // stable window over which concurrency is averaged

	origin
	raw *rawService
}

// ScaleToZeroDelay is how long after its last request Knative removes the
// Service's last instance: the autoscaler asks for zero once the stable
// window has seen no traffic, and the KPA then waits until the revision has
// been inactive for max(scale-to-zero-grace-period, retention period)
// (knative/serving pkg/reconciler/autoscaling/kpa/scaler.go, handleScaleToZero).
func (s *Service) ScaleToZeroDelay() time.Duration {
	return s.Window + max(DefaultScaleToZeroGracePeriod, s.ScaleToZeroRetention)
}

// ProbeTiming is when and how often a probe runs and how many failures in a
// row count, with Kubernetes' defaults filled in.
type ProbeTiming struct {
	InitialDelay     time.Duration // initialDelaySeconds
	Period           time.Duration // periodSeconds
	Timeout          time.Duration // timeoutSeconds
	FailureThreshold int           // failureThreshold
}

// DefaultTargetUtilization is config-autoscaler's
// container-concurrency-target-percentage, 70%.
const DefaultTargetUtilization = 0.70

// AnnotationTargetUtilization overrides DefaultTargetUtilization per revision.
const AnnotationTargetUtilization = "autoscaling.knative.dev/target-utilization-percentage"

// EffectiveTarget is the concurrency per instance the autoscaler aims for:
// min(target, containerConcurrency when not 0) × the target utilization, as
// knative/serving pkg/reconciler/autoscaling/resources/target.go
// (ResolveMetricTarget) computes it, never below Knative's minimum of 0.01.
func (s *Service) EffectiveTarget() float64 {
	total := float64(s.Target)
	if s.ContainerConcurrency != 0 {
		total = math.Min(total, float64(s.ContainerConcurrency))
	}
	tu := DefaultTargetUtilization
	if v, err := strconv.ParseFloat(s.TemplateAnnotations[AnnotationTargetUtilization], 64); err == nil {
		tu = v / 100
	}
	return math.Max(0.01, total*tu)
}

// ImportPath is the Go import path of a ko:// image, or "" when the image is not
// built by ko.
func (s *Service) ImportPath() string {
	p, ok := strings.CutPrefix(s.Image, "ko://")
	if !ok {
		return ""
	}
	return p
}

// KafkaSink turns HTTP CloudEvents into records on one topic.
type KafkaSink struct {
	Name             string
	Namespace        string
	Topic            string
	BootstrapServers []string
	ContentMode      string // binary (the default) or structured
	// AuthSecret is spec.auth.secret.ref.name: the Secret the receiver
	// authenticates to Kafka with for this sink.
	AuthSecret string

	origin
	raw *rawKafkaSink
}

// IngressPath is the path the Kafka sink ingress serves this sink on:
// /<namespace>/<name>.
func (k *KafkaSink) IngressPath() string {
	return "/" + k.Namespace + "/" + k.Name
}

// KafkaSource consumes topics and POSTs each record as a CloudEvent to Sink.
type KafkaSource struct {
	Name             string
	Namespace        string
	Labels           map[string]string
	KeyType          string // value of the key-type label
	Topics           []string
	BootstrapServers []string
	ConsumerGroup    string
	InitialOffset    string // earliest or latest (default latest)
	Ordering         string // ordered (default) or unordered
	Consumers        int    // default 1
	Sink             Destination
	Delivery         Delivery
	Net              KafkaNet // spec.net: how the dispatcher authenticates

	origin
	raw *rawKafkaSource
}

// Delivery is how a KafkaSource retries and dead-letters. When the manifest has no
// delivery block, Load fills in what the KafkaSource reconciler applies: retry 10,
// exponential, PT0.3S, PT600S, no dead-letter sink.
type Delivery struct {
	Retry          int
	BackoffPolicy  string
	BackoffDelay   time.Duration
	Timeout        time.Duration // per attempt
	DeadLetterSink *Destination
}

// Backoff is how long the dispatcher waits before retry n (1-based), as the
// Kafka dispatcher computes it: exponential waits delay·2^n (so the first retry
// already waits twice the delay), linear waits delay·n.
func (d Delivery) Backoff(n int) time.Duration {
	if n < 1 {
		return 0
	}
	const forever = time.Duration(math.MaxInt64)
	if d.BackoffPolicy == BackoffLinear {
		if d.BackoffDelay > forever/time.Duration(n) {
			return forever
		}
		return d.BackoffDelay * time.Duration(n)
	}
	if n >= 63 || d.BackoffDelay > forever>>n {
		return forever // saturate instead of overflowing
	}
	return d.BackoffDelay << n
}

// SinkBinding gives Subject (a Service) the environment variable K_SINK with the
// address of Sink, and K_CE_OVERRIDES with CEOverrides.
type SinkBinding struct {
	Name        string
	Namespace   string
	Subject     ObjectRef
	Sink        Destination
	CEOverrides map[string]string // spec.ceOverrides.extensions

	origin
	raw *rawSinkBinding
}

// PingSource sends a CloudEvent with Data to Sink on a cron Schedule.
type PingSource struct {
	Name        string
	Namespace   string
	Schedule    string // standard 5-field cron
	Timezone    string // IANA zone the schedule is read in; "" = UTC
	ContentType string
	Data        string
	Sink        Destination

	origin
	raw *rawPingSource
}

// KafkaTopic is a Strimzi KafkaTopic: a topic the Topic Operator creates and
// keeps as declared (partitions can grow, never shrink).
type KafkaTopic struct {
	Name       string // metadata.name
	Namespace  string
	Cluster    string // the strimzi.io/cluster label
	Topic      string // spec.topicName, or metadata.name when that is unset
	Partitions int    // 0 when unset (then the broker's num.partitions)
	Replicas   int    // 0 when unset (then the broker's default.replication.factor)
	// Config is the topic configuration with every value as Kafka takes it, a
	// string ("2", "7776000000").
	Config map[string]string

	origin
	raw *rawKafkaTopic
}

// File is the manifest file the object was loaded from (base name).
func (o origin) File() string { return o.file }

// Line is the first line of the object's YAML document in File.
func (o origin) Line() int { return o.line }

// Service returns the Knative Service with this name, or nil.
func (t *Topology) Service(name string) *Service {
	for _, s := range t.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// KafkaSink returns the KafkaSink with this name, or nil.
func (t *Topology) KafkaSink(name string) *KafkaSink {
	for _, k := range t.KafkaSinks {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// KafkaSource returns the KafkaSource with this name, or nil.
func (t *Topology) KafkaSource(name string) *KafkaSource {
	for _, k := range t.KafkaSources {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// KafkaTopic returns the KafkaTopic that declares this Kafka topic, or nil.
func (t *Topology) KafkaTopic(topic string) *KafkaTopic {
	for _, k := range t.KafkaTopics {
		if k.Topic == topic {
			return k
		}
	}
	return nil
}

// SinkBinding returns the SinkBinding with this name, or nil.
func (t *Topology) SinkBinding(name string) *SinkBinding {
	for _, b := range t.SinkBindings {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// PingSource returns the PingSource with this name, or nil.
func (t *Topology) PingSource(name string) *PingSource {
	for _, p := range t.PingSources {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// SinkBindingFor returns the SinkBinding whose subject is the Service, or nil.
func (t *Topology) SinkBindingFor(service string) *SinkBinding {
	for _, b := range t.SinkBindings {
		if b.Subject.APIVersion == ServingV1 && b.Subject.Kind == "Service" && b.Subject.Name == service {
			return b
		}
	}
	return nil
}

// SinkFor returns the sink a SinkBinding gives the Service (its K_SINK), and
// false when no SinkBinding has the Service as subject.
func (t *Topology) SinkFor(service string) (Destination, bool) {
	b := t.SinkBindingFor(service)
	if b == nil {
		return Destination{}, false
	}
	return b.Sink, true
}

// KafkaSinkFor returns the KafkaSink a Destination points at, or nil when it
// points at something else.
func (t *Topology) KafkaSinkFor(d Destination) *KafkaSink {
	if d.Ref == nil || d.Ref.APIVersion != EventingV1Alpha1 || d.Ref.Kind != "KafkaSink" {
		return nil
	}
	return t.KafkaSink(d.Ref.Name)
}

// ServiceFor returns the Knative Service a Destination points at, or nil when it
// points at something else.
func (t *Topology) ServiceFor(d Destination) *Service {
	if d.Ref == nil || d.Ref.APIVersion != ServingV1 || d.Ref.Kind != "Service" {
		return nil
	}
	return t.Service(d.Ref.Name)
}

// KafkaSinksForTopic returns the KafkaSinks that write to topic.
func (t *Topology) KafkaSinksForTopic(topic string) []*KafkaSink {
	var out []*KafkaSink
	for _, k := range t.KafkaSinks {
		if k.Topic == topic {
			out = append(out, k)
		}
	}
	return out
}

// SourcesFor returns the KafkaSources that deliver to the Service.
func (t *Topology) SourcesFor(service string) []*KafkaSource {
	var out []*KafkaSource
	for _, k := range t.KafkaSources {
		if s := t.ServiceFor(k.Sink); s != nil && s.Name == service {
			out = append(out, k)
		}
	}
	return out
}

// DeadLetteredInto returns the KafkaSource whose dead-letter sink writes
// topic, or nil when no source dead-letters there. A source that reads such a
// topic is a re-drive of it (knative/sources.yaml, "Re-drive").
func (t *Topology) DeadLetteredInto(topic string) *KafkaSource {
	for _, k := range t.KafkaSources {
		if k.Delivery.DeadLetterSink == nil {
			continue
		}
		if dls := t.KafkaSinkFor(*k.Delivery.DeadLetterSink); dls != nil && dls.Topic == topic {
			return k
		}
	}
	return nil
}
