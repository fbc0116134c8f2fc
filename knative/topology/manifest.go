package topology

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The wire shapes of the objects we ship, as they appear in the YAML. They model
// only the fields we use: decoding is strict, so a field that is not modelled here
// (including a typo) is an error instead of a silently ignored setting. Pointers
// mark fields whose absence matters to Check.

type rawMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type rawRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
}

type rawDestination struct {
	Ref *rawRef `json:"ref"`
	URI string  `json:"uri"`
}

// Knative Service (serving.knative.dev/v1).

type rawService struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   rawMeta        `json:"metadata"`
	Spec       rawServiceSpec `json:"spec"`
}

type rawServiceSpec struct {
	Template rawTemplate `json:"template"`
}

type rawTemplate struct {
	Metadata rawTemplateMeta `json:"metadata"`
	Spec     rawRevisionSpec `json:"spec"`
}

type rawTemplateMeta struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type rawRevisionSpec struct {
	ContainerConcurrency *int64         `json:"containerConcurrency"`
	TimeoutSeconds       *int64         `json:"timeoutSeconds"`
	ServiceAccountName   string         `json:"serviceAccountName"`
	Volumes              []rawVolume    `json:"volumes"`
	Containers           []rawContainer `json:"containers"`
}

type rawContainer struct {
	Name           string           `json:"name"`
	Image          string           `json:"image"`
	Env            []rawEnvVar      `json:"env"`
	EnvFrom        []rawEnvFrom     `json:"envFrom"`
	Ports          []rawPort        `json:"ports"`
	ReadinessProbe *rawProbe        `json:"readinessProbe"`
	LivenessProbe  *rawProbe        `json:"livenessProbe"`
	Resources      *rawResources    `json:"resources"`
	VolumeMounts   []rawVolumeMount `json:"volumeMounts"`
}

type rawEnvVar struct {
	Name      string        `json:"name"`
	Value     string        `json:"value"`
	ValueFrom *rawEnvSource `json:"valueFrom"`
}

type rawEnvSource struct {
	ConfigMapKeyRef *rawKeyRef `json:"configMapKeyRef"`
	SecretKeyRef    *rawKeyRef `json:"secretKeyRef"`
}

type rawKeyRef struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional *bool  `json:"optional"`
}

type rawEnvFrom struct {
	Prefix       string       `json:"prefix"`
	ConfigMapRef *rawLocalRef `json:"configMapRef"`
	SecretRef    *rawLocalRef `json:"secretRef"`
}

type rawLocalRef struct {
	Name     string `json:"name"`
	Optional *bool  `json:"optional"`
}

type rawPort struct {
	Name          string `json:"name"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

type rawProbe struct {
	HTTPGet             *rawHTTPGet `json:"httpGet"`
	InitialDelaySeconds *int32      `json:"initialDelaySeconds"`
	PeriodSeconds       *int32      `json:"periodSeconds"`
	TimeoutSeconds      *int32      `json:"timeoutSeconds"`
	FailureThreshold    *int32      `json:"failureThreshold"`
	SuccessThreshold    *int32      `json:"successThreshold"`
}

type rawHTTPGet struct {
	Path string    `json:"path"`
	Port *intOrStr `json:"port"`
}

type rawResources struct {
	Requests map[string]quantity `json:"requests"`
	Limits   map[string]quantity `json:"limits"`
}

// quantity is a Kubernetes resource quantity, written either as a string ("64Mi")
// or a bare number (1).
type quantity string

func (q *quantity) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*q = quantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("quantity must be a string or a number, got %s", b)
	}
	*q = quantity(n.String())
	return nil
}

// intOrStr is a Kubernetes IntOrString (a port number or a port name).
type intOrStr string

func (v *intOrStr) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = intOrStr(s)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want an integer or a string, got %s", b)
	}
	*v = intOrStr(strconv.FormatInt(n, 10))
	return nil
}

// KafkaSink (eventing.knative.dev/v1alpha1).

type rawKafkaSink struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Metadata   rawMeta          `json:"metadata"`
	Spec       rawKafkaSinkSpec `json:"spec"`
}

type rawKafkaSinkSpec struct {
	Topic             string   `json:"topic"`
	BootstrapServers  []string `json:"bootstrapServers"`
	ContentMode       *string  `json:"contentMode"`
	NumPartitions     *int32   `json:"numPartitions"`
	ReplicationFactor *int32   `json:"replicationFactor"`
	Auth              *rawAuth `json:"auth"`
}

// rawAuth is a KafkaSink's spec.auth: the Secret its producer authenticates with
// (eventing-kafka-broker control-plane/pkg/apis/eventing/v1alpha1/kafka_sink_types.go).
type rawAuth struct {
	Secret *struct {
		Ref *struct {
			Name string `json:"name"`
		} `json:"ref"`
	} `json:"secret"`
}

// KafkaTopic (kafka.strimzi.io/v1beta2). config is free-form in the CRD
// (x-kubernetes-preserve-unknown-fields); each value is kept as written.

type rawKafkaTopic struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   rawMeta           `json:"metadata"`
	Spec       rawKafkaTopicSpec `json:"spec"`
}

type rawKafkaTopicSpec struct {
	TopicName  string                     `json:"topicName"`
	Partitions *int32                     `json:"partitions"`
	Replicas   *int32                     `json:"replicas"`
	Config     map[string]json.RawMessage `json:"config"`
}

// KafkaSource (sources.knative.dev/v1).

type rawKafkaSource struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   rawMeta            `json:"metadata"`
	Spec       rawKafkaSourceSpec `json:"spec"`
}

type rawKafkaSourceSpec struct {
	BootstrapServers []string        `json:"bootstrapServers"`
	Topics           []string        `json:"topics"`
	ConsumerGroup    string          `json:"consumerGroup"`
	InitialOffset    *string         `json:"initialOffset"`
	Consumers        *int32          `json:"consumers"`
	Ordering         *string         `json:"ordering"`
	Delivery         *rawDelivery    `json:"delivery"`
	Sink             *rawDestination `json:"sink"`
	Net              *rawNet         `json:"net"`
}

// rawNet is a KafkaSource's spec.net (eventing-kafka-broker
// control-plane/pkg/apis/bindings/v1beta1/kafka_types.go, KafkaNetSpec): each
// value is a secretKeyRef.
type rawNet struct {
	SASL *rawSASL `json:"sasl"`
	TLS  *rawTLS  `json:"tls"`
}

type rawSASL struct {
	Enable   bool            `json:"enable"`
	User     *rawSecretValue `json:"user"`
	Password *rawSecretValue `json:"password"`
	Type     *rawSecretValue `json:"type"`
}

type rawTLS struct {
	Enable bool            `json:"enable"`
	Cert   *rawSecretValue `json:"cert"`
	Key    *rawSecretValue `json:"key"`
	CACert *rawSecretValue `json:"caCert"`
}

type rawSecretValue struct {
	SecretKeyRef *rawKeyRef `json:"secretKeyRef"`
}

// rawDelivery is eventing's DeliverySpec without the fields the Kafka dispatcher
// ignores (format) or we do not use (retryAfterMax).
type rawDelivery struct {
	Retry          *int32          `json:"retry"`
	BackoffPolicy  *string         `json:"backoffPolicy"`
	BackoffDelay   *string         `json:"backoffDelay"`
	Timeout        *string         `json:"timeout"`
	DeadLetterSink *rawDestination `json:"deadLetterSink"`
}

// SinkBinding (sources.knative.dev/v1).

type rawSinkBinding struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   rawMeta            `json:"metadata"`
	Spec       rawSinkBindingSpec `json:"spec"`
}

type rawSinkBindingSpec struct {
	Subject     *rawRef         `json:"subject"`
	Sink        *rawDestination `json:"sink"`
	CEOverrides *rawCEOverrides `json:"ceOverrides"`
}

// rawCEOverrides is duckv1.CloudEventOverrides (knative/pkg apis/duck/v1/source_types.go).
type rawCEOverrides struct {
	Extensions map[string]string `json:"extensions"`
}

// PingSource (sources.knative.dev/v1).

type rawPingSource struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   rawMeta           `json:"metadata"`
	Spec       rawPingSourceSpec `json:"spec"`
}

type rawPingSourceSpec struct {
	Schedule    string          `json:"schedule"`
	Timezone    string          `json:"timezone"`
	ContentType string          `json:"contentType"`
	Data        string          `json:"data"`
	Sink        *rawDestination `json:"sink"`
}

// HTTPRoute (gateway.networking.k8s.io/v1). Only path matches are modelled: the
// local gateway implements nothing else, so a header or method match must fail
// loudly rather than be ignored.

type rawHTTPRoute struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Metadata   rawMeta          `json:"metadata"`
	Spec       rawHTTPRouteSpec `json:"spec"`
}

type rawHTTPRouteSpec struct {
	ParentRefs []rawParentRef `json:"parentRefs"`
	Hostnames  []string       `json:"hostnames"`
	Rules      []rawRouteRule `json:"rules"`
}

type rawParentRef struct {
	Group       string `json:"group"`
	Kind        string `json:"kind"`
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	SectionName string `json:"sectionName"`
	Port        *int32 `json:"port"`
}

type rawRouteRule struct {
	Matches     []rawRouteMatch  `json:"matches"`
	Filters     []rawRouteFilter `json:"filters"`
	BackendRefs []rawBackendRef  `json:"backendRefs"`
	Retry       *rawRouteRetry   `json:"retry"`
}

type rawRouteMatch struct {
	Path   *rawPathMatch `json:"path"`
	Method *string       `json:"method"`
}

type rawRouteRetry struct {
	Codes    []int   `json:"codes"`
	Attempts *int    `json:"attempts"`
	Backoff  *string `json:"backoff"`
}

type rawPathMatch struct {
	Type  *string `json:"type"`
	Value *string `json:"value"`
}

type rawRouteFilter struct {
	Type       string         `json:"type"`
	URLRewrite *rawURLRewrite `json:"urlRewrite"`
}

type rawURLRewrite struct {
	Hostname *string `json:"hostname"`
}

type rawBackendRef struct {
	Group     *string `json:"group"`
	Kind      *string `json:"kind"`
	Name      string  `json:"name"`
	Namespace string  `json:"namespace"`
	Port      *int32  `json:"port"`
	Weight    *int32  `json:"weight"`
}
