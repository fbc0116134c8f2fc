// Package kafkasource emulates the dispatcher behind a Knative KafkaSource:
// a Kafka consumer group that POSTs each record to the subscriber as a
// binary-mode CloudEvent, retries and dead-letters as the source's delivery
// spec says, and commits an offset only once its record was delivered or
// dead-lettered. The behaviour follows eventing-kafka-broker's Java data
// plane: knative-extensions/eventing-kafka-broker
// data-plane/dispatcher/src/main/java/dev/knative/eventing/kafka/broker/dispatcher/impl/RecordDispatcherImpl.java.
package kafkasource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/infra/local/eventing/internal/kafkaconf"
	"github.com/tidings-dev/tidings/infra/local/eventing/internal/tracing"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/knative/topology"
)

// The KafkaSource enums, defined in knative/topology; the names stay here
// for callers that configure a dispatcher by hand (benchmarks).
const (
	OffsetEarliest     = topology.OffsetEarliest
	OffsetLatest       = topology.OffsetLatest
	OrderingOrdered    = topology.Ordered
	OrderingUnordered  = topology.Unordered
	BackoffLinear      = topology.BackoffLinear
	BackoffExponential = topology.BackoffExponential
)

const (
	// DefaultMaxInFlight is how many records an unordered source has in
	// flight, across all its partitions: the dispatcher's consumer stops
	// polling while max.poll.records (50) are in flight
	// (eventing-kafka-broker data-plane/dispatcher/.../impl/consumer/UnorderedConsumerVerticle.java,
	// data-plane/config/source/100-config-kafka-source-data-plane.yaml). A poll
	// made just under the cap may overshoot it by up to one poll; we do not.
	DefaultMaxInFlight = 50
	// DefaultTimeout is the per-request timeout when the delivery spec sets
	// none (the Knative dispatcher's default).
	DefaultTimeout = topology.DefaultDeliveryTimeout
	// minDeadLetterRetries is the least number of retries a dead-letter send
	// gets, whatever the subscriber's retry count.
	minDeadLetterRetries = 3
)

// Delivery mirrors a KafkaSource's spec.delivery.
type Delivery struct {
	// Retry is the number of retries after the first attempt (0 = none).
	Retry int
	// BackoffPolicy is "linear" or "exponential" (the default).
	BackoffPolicy string
	// BackoffDelay is the base delay between attempts.
	BackoffDelay time.Duration
	// Timeout bounds each HTTP attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// DeadLetterURL receives events that could not be delivered. Empty means
	// such events are logged and dropped, as Knative does.
	DeadLetterURL string
	// DeadLetterToken, when set, gives the source's OIDC token for the
	// dead-letter sink, sent as Authorization: Bearer as the dispatcher does
	// with Eventing OIDC on (eventing-kafka-broker
	// data-plane/dispatcher/.../impl/http/WebClientCloudEventSender.java).
	DeadLetterToken func() string
}

// Config describes one KafkaSource.
type Config struct {
	Name      string
	Namespace string
	Brokers   []string
	Topics    []string
	// ConsumerGroup is the Kafka consumer group id.
	ConsumerGroup string
	// InitialOffset is "earliest" or "latest" (the default); it applies only
	// when the group has no committed offset.
	InitialOffset string
	// Ordering is "ordered" (the default) or "unordered".
	Ordering string
	// MaxInFlight caps concurrent deliveries of the whole source in
	// unordered mode; 0 means DefaultMaxInFlight.
	MaxInFlight   int
	SubscriberURL string
	Delivery      Delivery
	Logger        *slog.Logger
	// Tracer, when set, traces each record's dispatch (a consumer span,
	// child of the record's traceparent header) and each attempt (a client
	// span whose context the subscriber gets as traceparent).
	Tracer trace.TracerProvider
	// Auth is who the dispatcher is to Kafka: the Secret of spec.net.sasl.
	Auth kafkaauth.Credentials
}

// Stats counts what a dispatcher did since it started.
type Stats struct {
	// Attempts is every HTTP POST to the subscriber.
	Attempts int64
	// Delivered is records the subscriber accepted with a 2xx.
	Delivered int64
	// Retried is attempts that were retries of an earlier failure.
	Retried int64
	// DeadLettered is records the dead-letter sink accepted.
	DeadLettered int64
	// Dropped is failed records that could not be dead-lettered (no sink, or
	// the sink kept failing); their offsets were committed all the same.
	Dropped int64
	// Wrapped is records that were not CloudEvents and were wrapped as
	// dev.knative.kafka.event.
	Wrapped int64
}

type counters struct {
	attempts, delivered, retried, deadLettered, dropped, wrapped atomic.Int64
}

// Dispatcher consumes a KafkaSource's topics and delivers to its subscriber.
type Dispatcher struct {
	cfg    Config
	log    *slog.Logger
	group  sarama.ConsumerGroup
	client *http.Client
	stats  counters
	slots  chan struct{} // one token per unordered delivery in flight, shared by all partitions
	tracer trace.Tracer  // nil: not traced

	cancel    context.CancelFunc
	done      chan struct{}
	ready     chan struct{}
	readyOnce sync.Once
	closeOnce sync.Once
	closeErr  error
}

// Start validates cfg, joins the consumer group and begins dispatching in
// the background until ctx ends or Close is called.
func Start(ctx context.Context, cfg Config) (*Dispatcher, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	initial := sarama.OffsetNewest
	if cfg.InitialOffset == OffsetEarliest {
		initial = sarama.OffsetOldest
	}
	log := cfg.Logger.With("component", "kafka-source", "source", cfg.Namespace+"/"+cfg.Name)
	kcfg := kafkaconf.Consumer("kafkasource-"+cfg.Name, initial)
	if err := cfg.Auth.Sarama(kcfg); err != nil {
		return nil, fmt.Errorf("kafkasource %s: %w", cfg.Name, err)
	}
	group, err := sarama.NewConsumerGroup(cfg.Brokers, cfg.ConsumerGroup, kcfg)
	if err != nil {
		return nil, fmt.Errorf("kafkasource %s: joining consumer group %s on %v: %w", cfg.Name, cfg.ConsumerGroup, cfg.Brokers, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	d := &Dispatcher{
		cfg:    cfg,
		log:    log,
		group:  group,
		client: newHTTPClient(cfg.MaxInFlight),
		slots:  make(chan struct{}, cfg.MaxInFlight),
		tracer: tracing.Tracer(cfg.Tracer, "kafkasource"),
		cancel: cancel,
		done:   make(chan struct{}),
		ready:  make(chan struct{}),
	}
	go d.logGroupErrors()
	go d.run(ctx)
	log.Info("kafka source started", "topics", cfg.Topics, "group", cfg.ConsumerGroup,
		"ordering", cfg.Ordering, "subscriber", cfg.SubscriberURL, "deadLetter", cfg.Delivery.DeadLetterURL)
	return d, nil
}

func newHTTPClient(maxInFlight int) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = maxInFlight
	return &http.Client{
		Transport: transport,
		// The data plane does not follow redirects: a 3xx is a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.Name == "" || cfg.Namespace == "" {
		return cfg, errors.New("kafkasource: name and namespace are required")
	}
	if len(cfg.Brokers) == 0 || len(cfg.Topics) == 0 || cfg.ConsumerGroup == "" || cfg.SubscriberURL == "" {
		return cfg, fmt.Errorf("kafkasource %s: brokers, topics, consumerGroup and subscriber URL are required", cfg.Name)
	}
	switch cfg.InitialOffset {
	case "":
		cfg.InitialOffset = OffsetLatest
	case OffsetEarliest, OffsetLatest:
	default:
		return cfg, fmt.Errorf("kafkasource %s: initialOffset %q is not earliest or latest", cfg.Name, cfg.InitialOffset)
	}
	switch cfg.Ordering {
	case "":
		cfg.Ordering = OrderingOrdered
	case OrderingOrdered, OrderingUnordered:
	default:
		return cfg, fmt.Errorf("kafkasource %s: ordering %q is not ordered or unordered", cfg.Name, cfg.Ordering)
	}
	switch cfg.Delivery.BackoffPolicy {
	case "":
		cfg.Delivery.BackoffPolicy = BackoffExponential
	case BackoffLinear, BackoffExponential:
	default:
		return cfg, fmt.Errorf("kafkasource %s: backoffPolicy %q is not linear or exponential", cfg.Name, cfg.Delivery.BackoffPolicy)
	}
	if cfg.Delivery.Retry < 0 || cfg.Delivery.BackoffDelay < 0 || cfg.Delivery.Timeout < 0 {
		return cfg, fmt.Errorf("kafkasource %s: retry, backoffDelay and timeout must not be negative", cfg.Name)
	}
	if cfg.Delivery.Timeout == 0 {
		cfg.Delivery.Timeout = DefaultTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

func (d *Dispatcher) run(ctx context.Context) {
	defer close(d.done)
	h := &groupHandler{d: d}
	for {
		err := d.group.Consume(ctx, d.cfg.Topics, h)
		if ctx.Err() != nil || errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return
		}
		if err != nil {
			d.log.Warn("consumer group session failed; rejoining", "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func (d *Dispatcher) logGroupErrors() {
	for err := range d.group.Errors() {
		d.log.Warn("kafka consumer error", "error", err)
	}
}

// Ready is closed once the dispatcher first got its partitions assigned.
func (d *Dispatcher) Ready() <-chan struct{} { return d.ready }

// Stats returns the counters so far.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Attempts:     d.stats.attempts.Load(),
		Delivered:    d.stats.delivered.Load(),
		Retried:      d.stats.retried.Load(),
		DeadLettered: d.stats.deadLettered.Load(),
		Dropped:      d.stats.dropped.Load(),
		Wrapped:      d.stats.wrapped.Load(),
	}
}

// Close stops consuming. Deliveries in flight are cancelled; their offsets
// stay uncommitted, so those records are delivered again on the next start
// (at-least-once). Offsets of finished records are committed.
func (d *Dispatcher) Close() error {
	d.closeOnce.Do(func() {
		d.cancel()
		<-d.done
		d.closeErr = d.group.Close()
		d.client.CloseIdleConnections()
		d.log.Info("kafka source stopped", "stats", d.Stats())
	})
	return d.closeErr
}
