// Package consume turns a CloudEvents handler into an idempotent HTTP
// endpoint for a KafkaSource. Delivery is at-least-once, so every event's
// (source, id) is recorded in processed_events in the same transaction as
// its effect: a redelivery finds the row and changes nothing.
//
// Status codes follow what the KafkaSource dispatcher does with them:
// 2xx done; 400 for an event that can never be processed (it goes straight
// to the dead-letter topic, with this response body as the reason); 500 for
// a failure worth retrying with backoff. An event that breaks the contract
// (events.Validate: schema, control characters in any attribute) and a
// Postgres data or integrity error are never worth retrying.
package consume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/jackc/pgx/v5/pgconn"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/problem"
	"github.com/tidings-dev/tidings/functions/telemetry"
)

// Func applies one event inside tx. Return Permanent(err) (or an
// events.InvalidError) for an event that retrying cannot fix.
type Func func(ctx context.Context, tx *outbox.Tx, e event.Event) error

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as not retryable.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err must not be retried: marked Permanent,
// an events.InvalidError, or a Postgres error of SQLSTATE class 22 (data
// exception: a NUL byte, a malformed uuid, a value out of range) or 23
// (integrity constraint violation), which the same event raises again on
// every retry.
func IsPermanent(err error) bool {
	var p permanentError
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")) {
		return true
	}
	return errors.As(err, &p) || events.IsInvalid(err)
}

// MaxEventBytes bounds a delivered event, headers aside.
const MaxEventBytes = 256 << 10

// Option tunes a Handler.
type Option func(*handlerConfig)

type handlerConfig struct {
	group *grouper // nil: each delivery its own transaction
}

// GroupCommit lets concurrent deliveries share a transaction: each waits
// for no timer, but those that arrive while a group is being applied form
// the next group, of at most size events, with at most runners groups
// applied at once (each holds one pooled connection). One commit then
// serves the whole group (outbox.RunGroup): fewer WAL flushes, the cost
// that bounds an ordered source's partitions. Every guarantee is kept: an
// event is answered only once its group committed (so an ordered source's
// next record of a partition starts after the last one is durable), each
// event runs in its own savepoint (a failing one is rolled back and
// answered alone), the dedup ledger row commits with the effect, and a
// failed commit answers 500 to the whole group, whose events are all
// retried.
func GroupCommit(size, runners int) Option {
	return func(c *handlerConfig) {
		c.group = &grouper{size: max(min(size, maxGroup), 1), runners: max(runners, 1)}
	}
}

// maxGroup keeps a group's savepoints within Postgres's 64 cached
// subtransactions per backend, past which every snapshot slows down.
const maxGroup = 32

// Handler serves POSTed CloudEvents for the consumer named name, accepting
// only the listed event types.
func Handler(name string, ob *outbox.Outbox, log *slog.Logger, accept []string, fn Func, opts ...Option) http.Handler {
	accepted := make(map[string]bool, len(accept))
	for _, t := range accept {
		accepted[t] = true
	}
	var cfg handlerConfig
	for _, o := range opts {
		o(&cfg)
	}
	apply := func(ctx context.Context, fn func(ctx context.Context, tx *outbox.Tx) error) error {
		return ob.Run(ctx, func(tx *outbox.Tx) error { return fn(ctx, tx) })
	}
	if g := cfg.group; g != nil {
		g.ob = ob
		apply = g.apply
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			problem.Write(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "POST a CloudEvent.")
			return
		}
		start := time.Now()
		r.Body = http.MaxBytesReader(w, r.Body, MaxEventBytes)
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			reject(w, log, r.Context(), nil, fmt.Errorf("not a CloudEvent: %w", err))
			return
		}
		if err := events.Validate(*e); err != nil {
			reject(w, log, r.Context(), e, err)
			return
		}
		if !accepted[e.Type()] {
			reject(w, log, r.Context(), e, fmt.Errorf("%s does not consume %s", name, e.Type()))
			return
		}
		// The request's span continues the dispatcher's (or, if it traced
		// nothing, the event's own) trace; an event from another trace (a
		// replay written by hand) is linked.
		ctx, span := tracer.Start(r.Context(), "process "+e.Type(), append(telemetry.Link(r.Context(), telemetry.EventContext(e)),
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(semconv.CloudEventsEventID(e.ID()), semconv.CloudEventsEventSource(e.Source()),
				semconv.CloudEventsEventType(e.Type()), semconv.CloudEventsEventSubject(e.Subject()),
				semconv.MessagingOperationName("process"), semconv.MessagingConsumerGroupName(name)))...)
		defer span.End()
		duplicate := false
		err = apply(ctx, func(ctx context.Context, tx *outbox.Tx) error {
			tag, err := tx.Exec(ctx, `INSERT INTO processed_events (consumer, event_source, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, name, e.Source(), e.ID())
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				duplicate = true
				return nil
			}
			return fn(ctx, tx, *e)
		})
		attrs := []any{"type", e.Type(), "id", e.ID(), "source", e.Source(), "ms", float64(time.Since(start).Microseconds()) / 1000}
		outcome := "processed"
		switch {
		case err == nil && duplicate:
			outcome = "duplicate"
			log.InfoContext(ctx, "event already processed", attrs...)
			w.WriteHeader(http.StatusOK)
		case err == nil:
			log.InfoContext(ctx, "event processed", attrs...)
			w.WriteHeader(http.StatusOK)
		case IsPermanent(err):
			outcome = "rejected"
			telemetry.RecordError(span, err)
			reject(w, log, ctx, e, err)
		default:
			outcome = "retry"
			telemetry.RecordError(span, err)
			log.ErrorContext(ctx, "event failed; will be retried", append(attrs, "err", err)...)
			problem.Write(w, http.StatusInternalServerError, "retry", "Event not processed", err.Error())
		}
		span.SetAttributes(attribute.String("tidings.consume.outcome", outcome))
	})
}

var tracer = otel.Tracer("github.com/tidings-dev/tidings/functions/internal/consume")

// reject answers 400 with the reason, which the dispatcher attaches to the
// dead letter as knativeerrordata.
func reject(w http.ResponseWriter, log *slog.Logger, ctx context.Context, e *event.Event, err error) {
	attrs := []any{"err", err}
	if e != nil {
		attrs = append(attrs, "type", e.Type(), "id", e.ID(), "source", e.Source())
	}
	log.WarnContext(ctx, "event rejected; not retryable", attrs...)
	problem.Write(w, http.StatusBadRequest, "invalid-event", "Event rejected", err.Error())
}
