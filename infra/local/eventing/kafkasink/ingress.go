// Package kafkasink emulates Knative's kafka-sink-ingress: an HTTP endpoint per
// KafkaSink at /<namespace>/<name> that accepts one CloudEvent (binary or
// structured HTTP mode) and produces it to the sink's topic.
//
// Answers follow the real receiver (eventing-kafka-broker
// data-plane/receiver/.../impl/handler/IngressRequestHandlerImpl.java,
// impl/ReceiverVerticle.java, MethodNotAllowedHandler.java), each with an
// empty body: 202 once Kafka acknowledged the record, 400 for a body that is
// not a valid CloudEvent, 404 for an unknown sink, 405 for anything but POST,
// and 503 when the record cannot be produced: Kafka refuses or cannot be
// reached, or the record is over the producer's max.request.size of 1 MiB.
// A sink with EventPolicies (Protect) first answers 401 without a valid
// token for its audience and 403 for a producer or event no policy admits,
// before anything else is read (auth.go). The reason goes to the log.
package kafkasink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"

	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/telemetry"
	"github.com/tidings-dev/tidings/infra/local/eventing/internal/kafkaconf"
	"github.com/tidings-dev/tidings/infra/local/eventing/internal/tracing"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"github.com/tidings-dev/tidings/infra/local/eventing/oidc"
	"github.com/tidings-dev/tidings/knative/topology"
)

const (
	// MaxBodyBytes is the largest body that can still become a record: the
	// receiver's producer has max.request.size=1048576
	// (data-plane/config/sink/100-config-kafka-sink-data-plane.yaml), and a
	// record holds at least the body. The receiver has no HTTP body limit of
	// its own; the oversized record fails to produce, hence 503.
	MaxBodyBytes = kafkaconf.MaxRecordBytes
	// ProduceTimeout bounds how long one request waits for Kafka before 503.
	ProduceTimeout = 5 * time.Second
)

// The KafkaSink content modes, defined in knative/topology.
const (
	ContentModeBinary     = topology.ContentModeBinary
	ContentModeStructured = topology.ContentModeStructured
)

// Config configures an Ingress.
type Config struct {
	Brokers []string
	Logger  *slog.Logger
	// ProduceTimeout overrides ProduceTimeout when > 0.
	ProduceTimeout time.Duration
	// Issuer verifies the tokens of protected sinks (Eventing OIDC on).
	Issuer *oidc.Issuer
	// Tracer, when set, traces each request (a server span, child of the
	// producer's traceparent) and each produce (a producer span whose
	// context goes into the record's headers).
	Tracer trace.TracerProvider
	// Auth is who the ingress is to Kafka: the KafkaSinks' spec.auth Secret.
	Auth kafkaauth.Credentials
}

// Ingress is an http.Handler serving every registered KafkaSink.
type Ingress struct {
	log     *slog.Logger
	timeout time.Duration
	issuer  *oidc.Issuer

	mu    sync.RWMutex
	sinks map[string]sink // key "<namespace>/<name>"

	producers *producerPool
	tracer    trace.Tracer
	handler   http.Handler // serve, traced when Config.Tracer is set
}

type sink struct {
	topic       string
	contentMode string
	// audience and policies are set by Protect; no policies means open.
	audience string
	policies []Policy
}

// NewIngress returns an Ingress producing to brokers. It does not contact
// Kafka yet: the producer is created on the first request, and recreated
// after a failure, so the ingress recovers when Kafka comes back.
func NewIngress(cfg Config) (*Ingress, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafkasink: no brokers configured")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	timeout := cfg.ProduceTimeout
	if timeout <= 0 {
		timeout = ProduceTimeout
	}
	in := &Ingress{
		log:       log.With("component", "kafka-sink-ingress"),
		timeout:   timeout,
		issuer:    cfg.Issuer,
		sinks:     map[string]sink{},
		producers: &producerPool{brokers: cfg.Brokers, auth: cfg.Auth, log: log},
		tracer:    tracing.Tracer(cfg.Tracer, "kafkasink"),
	}
	in.handler = http.HandlerFunc(in.serve)
	if cfg.Tracer != nil {
		in.handler = telemetry.Server(cfg.Tracer, in.handler)
	}
	return in, nil
}

// Register makes the KafkaSink namespace/name reachable at /namespace/name,
// producing to topic. contentMode is "binary" (the default when empty) or
// "structured", as in the KafkaSink spec.
func (in *Ingress) Register(namespace, name, topic, contentMode string) error {
	if namespace == "" || name == "" || topic == "" {
		return fmt.Errorf("kafkasink: register %q/%q: namespace, name and topic are required", namespace, name)
	}
	switch contentMode {
	case "":
		contentMode = ContentModeBinary
	case ContentModeBinary, ContentModeStructured:
	default:
		return fmt.Errorf("kafkasink: register %s/%s: contentMode %q is not binary or structured", namespace, name, contentMode)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.sinks[namespace+"/"+name] = sink{topic: topic, contentMode: contentMode}
	return nil
}

// Close releases the Kafka producer.
func (in *Ingress) Close() error {
	return in.producers.close()
}

func (in *Ingress) lookup(path string) (sink, string, bool) {
	key := strings.Trim(path, "/")
	if parts := strings.Split(key, "/"); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return sink{}, key, false
	}
	in.mu.RLock()
	defer in.mu.RUnlock()
	s, ok := in.sinks[key]
	return s, key, ok
}

func (in *Ingress) ServeHTTP(w http.ResponseWriter, r *http.Request) { in.handler.ServeHTTP(w, r) }

func (in *Ingress) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s, key, ok := in.lookup(r.URL.Path)
	if !ok {
		in.answer(w, r, start, http.StatusNotFound, "no KafkaSink at "+r.URL.Path, nil)
		return
	}
	telemetry.Route(r.Context(), "POST /"+key)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		in.answer(w, r, start, http.StatusMethodNotAllowed, "only POST is accepted", nil)
		return
	}
	var admitted []Policy
	if len(s.policies) > 0 {
		var code int
		var why string
		if admitted, code, why = in.authenticate(s, r); code != 0 {
			in.answer(w, r, start, code, why, nil)
			return
		}
	}
	if r.ContentLength > MaxBodyBytes {
		in.answer(w, r, start, http.StatusServiceUnavailable, fmt.Sprintf("body larger than the %d bytes a record may have", MaxBodyBytes), nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			in.answer(w, r, start, http.StatusServiceUnavailable, fmt.Sprintf("body larger than the %d bytes a record may have", MaxBodyBytes), nil)
			return
		}
		in.answer(w, r, start, http.StatusBadRequest, "reading body: "+err.Error(), nil)
		return
	}

	ev, err := decodeEvent(r.Context(), r.Header, body)
	if err != nil {
		in.answer(w, r, start, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if admitted != nil && !admits(admitted, ev) {
		in.answer(w, r, start, http.StatusForbidden, "no EventPolicy admits "+ev.Type()+" from this producer", ev)
		return
	}

	msg, err := producerMessage(r.Context(), s, ev)
	if err != nil {
		in.answer(w, r, start, http.StatusBadRequest, "encoding event for Kafka: "+err.Error(), ev)
		return
	}
	if err := in.tracedProduce(r.Context(), msg, ev); err != nil {
		in.answer(w, r, start, http.StatusServiceUnavailable, "producing to topic "+s.topic+": "+err.Error(), ev)
		return
	}
	in.log.Debug("produced", "sink", key, "topic", s.topic, "partition", msg.Partition, "offset", msg.Offset)
	in.answer(w, r, start, http.StatusAccepted, "", ev)
}

// decodeEvent reads one CloudEvent in binary or structured HTTP mode and
// checks it against the CloudEvents spec.
func decodeEvent(ctx context.Context, h http.Header, body []byte) (*event.Event, error) {
	m := cehttp.NewMessage(h, io.NopCloser(bytes.NewReader(body)))
	if m.ReadEncoding() == binding.EncodingUnknown {
		return nil, errors.New("not a CloudEvent: no ce-specversion header and no structured content type")
	}
	ev, err := binding.ToEvent(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("not a CloudEvent: %w", err)
	}
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("invalid CloudEvent: %w", err)
	}
	return ev, nil
}

// producerMessage encodes ev in the sink's content mode. The partitionkey
// extension becomes the record key (the binding does it in binary mode; we do
// it ourselves so structured mode gets the same key, as the Java receiver's
// PartitionKeyExtensionInterceptor does for both).
func producerMessage(ctx context.Context, s sink, ev *event.Event) (*sarama.ProducerMessage, error) {
	msg := &sarama.ProducerMessage{Topic: s.topic}
	if s.contentMode == ContentModeStructured {
		ctx = binding.WithForceStructured(ctx)
	} else {
		ctx = binding.WithForceBinary(ctx)
	}
	if err := kafka_sarama.WriteProducerMessage(ctx, binding.ToMessage(ev), msg); err != nil {
		return nil, err
	}
	if msg.Key == nil && s.contentMode == ContentModeStructured {
		if pk, ok := ev.Extensions()["partitionkey"]; ok {
			if s, err := types.Format(pk); err == nil && s != "" {
				msg.Key = sarama.StringEncoder(s)
			}
		}
	}
	return msg, nil
}

// tracedProduce is produce in a producer span, whose context the record
// carries to the dispatcher (eventing-kafka-broker
// data-plane/core/.../core/tracing/kafka/ProducerTracer.java, "kafka_send").
func (in *Ingress) tracedProduce(ctx context.Context, msg *sarama.ProducerMessage, ev *event.Event) error {
	ctx, span := in.tracer.Start(ctx, "send "+msg.Topic, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(semconv.MessagingSystemKafka, semconv.MessagingOperationName("send"), semconv.MessagingDestinationName(msg.Topic),
			semconv.CloudEventsEventID(ev.ID()), semconv.CloudEventsEventType(ev.Type()), semconv.CloudEventsEventSource(ev.Source())))
	defer span.End()
	tracing.InjectRecord(ctx, msg)
	err := in.produce(msg)
	if err != nil {
		telemetry.RecordError(span, err)
		return err
	}
	span.SetAttributes(semconv.MessagingDestinationPartitionID(strconv.Itoa(int(msg.Partition))), semconv.MessagingKafkaOffset(int(msg.Offset)))
	return nil
}

// produce sends msg and waits at most in.timeout. A producer that failed or
// timed out is retired, so the next request dials Kafka afresh.
func (in *Ingress) produce(msg *sarama.ProducerMessage) error {
	done := make(chan error, 1)
	acquired := make(chan *pooledProducer, 1)
	go func() {
		p, err := in.producers.acquire()
		if err != nil {
			done <- err
			return
		}
		acquired <- p
		_, _, err = p.producer.SendMessage(msg)
		if err != nil {
			in.producers.retire(p)
		}
		in.producers.release(p)
		done <- err
	}()
	timer := time.NewTimer(in.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		// The send goes on in the background until sarama gives up; the
		// client is told 503 and will retry (at-least-once). The stuck
		// producer is retired so later requests do not queue behind it.
		select {
		case p := <-acquired:
			in.producers.retire(p)
		default:
		}
		return fmt.Errorf("no acknowledgement from Kafka within %s", in.timeout)
	}
}

func (in *Ingress) answer(w http.ResponseWriter, r *http.Request, start time.Time, code int, msg string, ev *event.Event) {
	attrs := []any{"method", r.Method, "path", r.URL.Path, "status", code, "ms", time.Since(start).Milliseconds()}
	if ev != nil {
		attrs = append(attrs, "ce_id", ev.ID(), "ce_type", ev.Type(), "ce_source", ev.Source())
	}
	switch {
	case code >= 500:
		in.log.WarnContext(r.Context(), "kafka sink request failed", append(attrs, "error", msg)...)
	case code >= 400:
		in.log.InfoContext(r.Context(), "kafka sink request rejected", append(attrs, "error", msg)...)
	default:
		in.log.InfoContext(r.Context(), "kafka sink request", attrs...)
	}
	w.WriteHeader(code)
}

// producerPool keeps one live SyncProducer. A producer that failed is retired:
// new requests get a fresh one, and the old one is closed once the requests
// still using it return (closing earlier would panic their SendMessage).
type producerPool struct {
	brokers []string
	auth    kafkaauth.Credentials
	log     *slog.Logger

	mu      sync.Mutex
	current *pooledProducer
	closed  bool
}

type pooledProducer struct {
	producer sarama.SyncProducer
	users    int
	retired  bool
}

func (pp *producerPool) acquire() (*pooledProducer, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.closed {
		return nil, errors.New("ingress closed")
	}
	if pp.current == nil {
		cfg := kafkaconf.Producer("tidings-kafka-sink-ingress")
		if err := pp.auth.Sarama(cfg); err != nil {
			return nil, err
		}
		p, err := sarama.NewSyncProducer(pp.brokers, cfg)
		if err != nil {
			return nil, fmt.Errorf("connecting to Kafka %v: %w", pp.brokers, err)
		}
		pp.current = &pooledProducer{producer: p}
	}
	pp.current.users++
	return pp.current, nil
}

func (pp *producerPool) retire(p *pooledProducer) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	p.retired = true
	if pp.current == p {
		pp.current = nil
	}
}

func (pp *producerPool) release(p *pooledProducer) {
	pp.mu.Lock()
	p.users--
	closeIt := p.retired && p.users == 0
	pp.mu.Unlock()
	if closeIt {
		if err := p.producer.Close(); err != nil {
			pp.log.Debug("closing retired producer", "error", err)
		}
	}
}

func (pp *producerPool) close() error {
	pp.mu.Lock()
	pp.closed = true
	p := pp.current
	pp.current = nil
	var closeNow bool
	if p != nil {
		p.retired = true
		closeNow = p.users == 0
	}
	pp.mu.Unlock()
	if closeNow {
		return p.producer.Close()
	}
	return nil
}
