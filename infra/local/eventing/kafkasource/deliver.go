package kafkasource

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/cloudevents/sdk-go/protocol/kafka_sarama/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/telemetry"
	"github.com/tidings-dev/tidings/infra/local/eventing/internal/tracing"
	"github.com/tidings-dev/tidings/knative/topology"
)

// Extensions Knative adds to an event it sends to the dead-letter sink.
// Knative adds no topic/partition/offset extensions, so neither do we.
const (
	ExtErrorDest = "knativeerrordest"
	ExtErrorCode = "knativeerrorcode"
	ExtErrorData = "knativeerrordata"

	// errorDataMaxBytes is how much of the failing response body Knative
	// keeps in knativeerrordata (before base64).
	errorDataMaxBytes = 1024
	// errorHeaderPrefix marks response headers that Knative copies to the
	// dead-lettered event as extensions (prefix removed, lower-cased).
	errorHeaderPrefix = "kne-"
	// invalidEventType is the type Knative gives a record that is not a
	// CloudEvent.
	invalidEventType = "dev.knative.kafka.event"
)

// attemptResult is the outcome of one HTTP POST.
type attemptResult struct {
	status int         // 0 when no response arrived
	body   []byte      // first errorDataMaxBytes of the response body
	header http.Header // response headers
	err    error       // transport error or timeout
}

func (r attemptResult) succeeded() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// retryable follows the Knative dispatcher: no response (connection error,
// timeout), 5xx, 404, 408, 409 and 429 are worth another try.
func (r attemptResult) retryable() bool {
	if r.err != nil {
		return true
	}
	switch r.status {
	case http.StatusNotFound, http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	}
	return r.status >= 500
}

func (r attemptResult) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return strconv.Itoa(r.status)
}

// dispatch delivers one record: to the subscriber with retries, then to the
// dead-letter sink. It reports whether the record is finished (delivered,
// dead-lettered, or dropped as Knative would) and its offset may be
// committed; false means it was abandoned because ctx ended.
//
// It is traced as one consumer span for the record, which ends when the
// record is finished (as the dispatcher's "kafka_receive" span ends with the
// record's final promise: eventing-kafka-broker
// data-plane/dispatcher/.../impl/RecordDispatcherImpl.java onRecordReceived),
// with a client span per attempt, an event per retry and per dead-lettering,
// and the outcome as an attribute.
func (d *Dispatcher) dispatch(ctx context.Context, m *sarama.ConsumerMessage) bool {
	ev, wrapped := d.eventFromRecord(m)
	if wrapped {
		d.stats.wrapped.Add(1)
	}
	ctx, span := d.startSpan(ctx, m, ev)
	outcome := "abandoned"
	defer func() {
		span.SetAttributes(attribute.String("tidings.delivery.outcome", outcome))
		span.End()
	}()
	log := d.log.With("topic", m.Topic, "partition", m.Partition, "offset", m.Offset,
		"ce_id", ev.ID(), "ce_type", ev.Type())
	start := time.Now()

	last, attempts, ok := d.sendWithRetries(ctx, d.cfg.SubscriberURL, ev, d.cfg.Delivery.Retry, true)
	if !ok {
		log.InfoContext(ctx, "delivery abandoned on shutdown; offset left uncommitted", "attempts", attempts)
		return false
	}
	span.SetAttributes(attribute.Int("tidings.delivery.attempts", attempts))
	if last.succeeded() {
		outcome = "delivered"
		d.stats.delivered.Add(1)
		log.InfoContext(ctx, "delivered", "status", last.status, "attempts", attempts, "ms", time.Since(start).Milliseconds())
		return true
	}
	log = log.With("attempts", attempts, "result", last.String(), "retryable", last.retryable())

	span.SetStatus(codes.Error, "not delivered: "+last.String())
	if d.cfg.Delivery.DeadLetterURL == "" {
		outcome = "dropped"
		d.stats.dropped.Add(1)
		log.ErrorContext(ctx, "delivery failed and there is no dead-letter sink: event dropped, offset committed")
		return true
	}
	dead := deadLetterEvent(ev, d.cfg.SubscriberURL, last)
	span.AddEvent("dead-letter", trace.WithAttributes(attribute.String(ExtErrorDest, d.cfg.SubscriberURL),
		attribute.String("tidings.delivery.result", last.String()), attribute.Bool("tidings.delivery.retryable", last.retryable())))
	retries := max(d.cfg.Delivery.Retry, minDeadLetterRetries)
	dlsLast, dlsAttempts, ok := d.sendWithRetries(ctx, d.cfg.Delivery.DeadLetterURL, dead, retries, false)
	if !ok {
		log.InfoContext(ctx, "dead-lettering abandoned on shutdown; offset left uncommitted")
		return false
	}
	if !dlsLast.succeeded() {
		outcome = "dropped"
		d.stats.dropped.Add(1)
		log.ErrorContext(ctx, "DEAD-LETTER SINK FAILED: event dropped, offset committed (as Knative does)",
			"deadLetterSink", d.cfg.Delivery.DeadLetterURL, "dlsAttempts", dlsAttempts, "dlsResult", dlsLast.String())
		return true
	}
	outcome = "dead-lettered"
	d.stats.deadLettered.Add(1)
	log.WarnContext(ctx, "delivery failed; event dead-lettered", "deadLetterSink", d.cfg.Delivery.DeadLetterURL)
	return true
}

// sendWithRetries POSTs ev to url up to 1+retries times, waiting the backoff
// between retryable failures. ok is false when ctx ended first.
func (d *Dispatcher) sendWithRetries(ctx context.Context, url string, ev *event.Event, retries int, toSubscriber bool) (last attemptResult, attempts int, ok bool) {
	for {
		last = d.send(ctx, url, ev, attempts)
		attempts++
		if toSubscriber {
			d.stats.attempts.Add(1)
		}
		if ctx.Err() != nil {
			return last, attempts, false
		}
		if last.succeeded() || !last.retryable() || attempts > retries {
			return last, attempts, true
		}
		if toSubscriber {
			d.stats.retried.Add(1)
		}
		wait := topology.Delivery{BackoffPolicy: d.cfg.Delivery.BackoffPolicy, BackoffDelay: d.cfg.Delivery.BackoffDelay}.Backoff(attempts)
		d.log.Debug("retrying", "url", url, "ce_id", ev.ID(), "attempt", attempts, "result", last.String(), "wait", wait)
		trace.SpanFromContext(ctx).AddEvent("retry", trace.WithAttributes(attribute.String("url.full", url), attribute.Int("tidings.delivery.attempt", attempts),
			attribute.String("tidings.delivery.result", last.String()), attribute.Int64("tidings.delivery.backoff_ms", wait.Milliseconds())))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return last, attempts, false
		case <-timer.C:
		}
	}
}

// send makes one binary-mode POST with the Knative dispatcher's headers.
// The reply, if any, is read only to fill knativeerrordata and is otherwise
// discarded, as a KafkaSource does.
//
// The attempt is a client span (earlier is the number of attempts before
// it, http.request.resend_count); the subscriber gets its traceparent next
// to the event's own ce-traceparent.
func (d *Dispatcher) send(ctx context.Context, url string, ev *event.Event, earlier int) (res attemptResult) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Delivery.Timeout)
	defer cancel()
	ctx, span := d.tracerOrNoop().Start(ctx, http.MethodPost, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.HTTPRequestMethodPost, semconv.URLFull(url)))
	if earlier > 0 {
		span.SetAttributes(semconv.HTTPRequestResendCount(earlier))
	}
	defer func() {
		if res.status != 0 {
			span.SetAttributes(semconv.HTTPResponseStatusCode(res.status))
		}
		if !res.succeeded() {
			span.SetStatus(codes.Error, res.String())
		}
		span.End()
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return attemptResult{err: fmt.Errorf("building request: %w", err)}
	}
	if err := cehttp.WriteRequest(binding.WithForceBinary(ctx), binding.ToMessage(ev), req); err != nil {
		return attemptResult{err: fmt.Errorf("encoding event: %w", err)}
	}
	if span.IsRecording() {
		telemetry.InjectHTTP(ctx, req.Header)
	}
	req.Header.Set("Prefer", "reply")
	req.Header.Set("Kn-Namespace", d.cfg.Namespace)
	if tok := d.cfg.Delivery.DeadLetterToken; tok != nil && url == d.cfg.Delivery.DeadLetterURL {
		req.Header.Set("Authorization", "Bearer "+tok())
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return attemptResult{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, errorDataMaxBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	return attemptResult{status: resp.StatusCode, body: body, header: resp.Header}
}

func (d *Dispatcher) tracerOrNoop() trace.Tracer {
	if d.tracer == nil {
		return tracing.Tracer(nil, "kafkasource")
	}
	return d.tracer
}

// startSpan starts the record's span, child of the record's traceparent
// header or, failing that, of the event's traceparent extension.
func (d *Dispatcher) startSpan(ctx context.Context, m *sarama.ConsumerMessage, ev *event.Event) (context.Context, trace.Span) {
	ctx = tracing.RecordContext(ctx, m, telemetry.EventContext(ev))
	return d.tracerOrNoop().Start(ctx, "process "+m.Topic, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(semconv.MessagingSystemKafka, semconv.MessagingOperationName("process"), semconv.MessagingDestinationName(m.Topic),
			semconv.MessagingDestinationPartitionID(strconv.Itoa(int(m.Partition))), semconv.MessagingKafkaOffset(int(m.Offset)),
			semconv.MessagingConsumerGroupName(d.cfg.ConsumerGroup), attribute.String("knative.kafkasource", d.cfg.Namespace+"/"+d.cfg.Name),
			semconv.CloudEventsEventID(ev.ID()), semconv.CloudEventsEventType(ev.Type())))
}

// deadLetterEvent is ev plus the error extensions Knative attaches:
// knativeerrordest always, knativeerrorcode and knativeerrordata (base64 of
// at most 1 KiB of the body) when a response arrived, and each kne-* response
// header as an extension.
func deadLetterEvent(ev *event.Event, dest string, last attemptResult) *event.Event {
	out := ev.Clone()
	out.SetExtension(ExtErrorDest, dest)
	if last.status == 0 {
		return &out
	}
	out.SetExtension(ExtErrorCode, strconv.Itoa(last.status))
	for name, values := range last.header {
		if len(values) == 0 || len(name) <= len(errorHeaderPrefix) || !strings.EqualFold(name[:len(errorHeaderPrefix)], errorHeaderPrefix) {
			continue
		}
		ext := strings.ToLower(name[len(errorHeaderPrefix):])
		if validExtensionName(ext) {
			out.SetExtension(ext, values[0])
		}
	}
	if len(last.body) > 0 {
		out.SetExtension(ExtErrorData, base64.StdEncoding.EncodeToString(last.body))
	}
	return &out
}

// eventFromRecord decodes a record written in the Kafka binary or structured
// CloudEvents binding. A record that is not a valid CloudEvent is wrapped the
// way Knative's InvalidCloudEventInterceptor does; wrapped reports that.
func (d *Dispatcher) eventFromRecord(m *sarama.ConsumerMessage) (ev *event.Event, wrapped bool) {
	headers := make(map[string][]byte, len(m.Headers))
	contentType := ""
	for _, h := range m.Headers {
		if h == nil {
			continue
		}
		k := strings.ToLower(string(h.Key))
		if k == "content-type" {
			contentType = string(h.Value)
		}
		headers[k] = h.Value
	}
	// kafka_sarama.NewMessage, unlike NewMessageFromConsumerMessage, adds no
	// kafkatopic/kafkapartition/kafkaoffset extensions: Knative forwards the
	// event unchanged.
	msg := kafka_sarama.NewMessage(m.Value, contentType, headers)
	if msg.ReadEncoding() != binding.EncodingUnknown {
		decoded, err := binding.ToEvent(context.Background(), msg)
		if err == nil {
			if err = decoded.Validate(); err == nil {
				return decoded, false
			}
		}
		d.log.Debug("record is not a valid CloudEvent; wrapping it", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "error", err)
	}
	return wrapRecord(d.cfg.Namespace, d.cfg.Name, m), true
}

// wrapRecord builds the dev.knative.kafka.event Knative makes from a record
// that is not a CloudEvent.
func wrapRecord(namespace, name string, m *sarama.ConsumerMessage) *event.Event {
	ev := event.New()
	ev.SetID(fmt.Sprintf("partition:%d/offset:%d", m.Partition, m.Offset))
	ev.SetType(invalidEventType)
	ev.SetSource(fmt.Sprintf("/apis/v1/namespaces/%s/kafkasources/%s#%s", namespace, name, m.Topic))
	ev.SetSubject(fmt.Sprintf("partition:%d#%d", m.Partition, m.Offset))
	if !m.Timestamp.IsZero() {
		ev.SetTime(m.Timestamp.UTC())
	}
	if m.Key != nil {
		ev.SetExtension("partitionkey", string(m.Key))
		ev.SetExtension("key", string(m.Key))
	}
	for _, h := range m.Headers {
		if h == nil {
			continue
		}
		if strings.EqualFold(string(h.Key), "content-type") {
			ev.SetDataContentType(strings.ToLower(string(h.Value)))
			continue
		}
		if ext := "kafkaheader" + alnumLower(string(h.Key)); validExtensionName(ext) {
			ev.SetExtension(ext, string(h.Value))
		}
	}
	if m.Value != nil {
		ev.DataEncoded = m.Value
	}
	return &ev
}

// alnumLower lower-cases s and drops every character that is not [a-z0-9],
// as Knative does to turn a Kafka header name into an extension name.
func alnumLower(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// validExtensionName reports whether name is a CloudEvents attribute name
// (lower-case letters and digits), so setting it cannot poison the event.
func validExtensionName(name string) bool {
	return name != "" && alnumLower(name) == name
}
