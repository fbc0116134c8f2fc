// Package outbox makes "change the database and emit an event" atomic. An
// event is written to the outbox table in the same transaction as the change
// it announces, sent to the function's sink (a KafkaSink, from K_SINK) after
// commit, and marked sent once the sink accepts it. Whatever is left unsent
// (sink down, process killed) is swept and resent by the relay, so no event
// is lost; consumers deduplicate, so a resend is harmless.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/telemetry"
)

// Outbox writes and sends one function's events.
type Outbox struct {
	pool   *pgxpool.Pool
	sink   string
	client cloudevents.Client
	log    *slog.Logger
	// SendTimeout bounds one delivery to the sink.
	SendTimeout time.Duration
	// Tokens is where each send finds the OIDC token for its sink.
	Tokens Tokens
	// SendWorkers bounds how many events of one batch are sent at once.
	// Each send runs two short statements (none during the HTTP call); the
	// cap at half the pool keeps a big batch from crowding out requests.
	SendWorkers int
	inflight    sync.WaitGroup

	// Committed rows wait here for the one sender goroutine, which sends them
	// batch after batch in the order Run handed them over after commit.
	queueMu  sync.Mutex
	queue    []int64
	draining bool
}

// New returns an outbox sending to sink (the function's K_SINK; empty for a
// function that emits nothing).
func New(pool *pgxpool.Pool, sink string, log *slog.Logger) (*Outbox, error) {
	c, err := cloudevents.NewClientHTTP()
	if err != nil {
		return nil, err
	}
	return &Outbox{pool: pool, sink: sink, client: c, log: log, SendTimeout: 5 * time.Second, SendWorkers: 16}, nil
}

// ErrNoSink means the function tried to emit without a K_SINK.
var ErrNoSink = errors.New("outbox: no sink configured (K_SINK is empty)")

// Tx is a database transaction that can also emit events.
type Tx struct {
	pgx.Tx
	ob    *Outbox
	ids   []int64
	after []func(context.Context)
}

// Emit writes e to the outbox inside the transaction. It is sent after commit.
func (tx *Tx) Emit(ctx context.Context, e event.Event) error {
	return tx.EmitAll(ctx, []event.Event{e})
}

// AfterCommit runs fn once the transaction has committed, before Run
// returns; it never runs for a transaction that rolled back. For effects
// outside the database that must not happen unless the change did (a live
// publish), and that may be lost if the process dies right then.
func (tx *Tx) AfterCommit(fn func(ctx context.Context)) {
	tx.after = append(tx.after, fn)
}

// EmitAll writes events to the outbox inside the transaction like Emit, but
// pipelined: all the INSERTs go to Postgres in one batch rather than one
// round trip each, so a consumer emitting thousands of events stays one
// short transaction.
func (tx *Tx) EmitAll(ctx context.Context, es []event.Event) error {
	if tx.ob.sink == "" {
		return ErrNoSink
	}
	if len(es) == 0 {
		return nil
	}
	ctx, span := tracer.Start(ctx, "outbox write", trace.WithAttributes(attribute.Int("tidings.outbox.events", len(es))))
	defer span.End()
	if len(es) == 1 {
		span.SetAttributes(eventAttributes(es[0])...)
	}
	err := tx.queueAll(ctx, es)
	telemetry.RecordError(span, err)
	return err
}

// queueAll is EmitAll's work, inside its span: each event carries the
// span's trace context (the CloudEvents traceparent extension), so its send,
// a resend by the relay and every consumer continue this trace.
func (tx *Tx) queueAll(ctx context.Context, es []event.Event) error {
	var b pgx.Batch
	for _, e := range es {
		telemetry.InjectEvent(ctx, &e)
		if err := events.Validate(e); err != nil {
			return err
		}
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO outbox (event_source, event_id, event_type, sink, event) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			e.Source(), e.ID(), e.Type(), tx.ob.sink, raw)
	}
	results := tx.SendBatch(ctx, &b)
	for range es {
		var id int64
		if err := results.QueryRow().Scan(&id); err != nil {
			results.Close()
			return fmt.Errorf("outbox write: %w", err)
		}
		tx.ids = append(tx.ids, id)
	}
	if err := results.Close(); err != nil {
		return fmt.Errorf("outbox write: %w", err)
	}
	return nil
}

// Run runs fn in a transaction. When it commits, the AfterCommit functions
// run, and the events fn emitted are sent in the background; Wait waits for
// those sends.
func (o *Outbox) Run(ctx context.Context, fn func(tx *Tx) error) error {
	var ids []int64
	var after []func(context.Context)
	err := pgx.BeginFunc(ctx, o.pool, func(ptx pgx.Tx) error {
		tx := &Tx{Tx: ptx, ob: o}
		if err := fn(tx); err != nil {
			return err
		}
		ids, after = tx.ids, tx.after
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range after {
		f(ctx)
	}
	if len(ids) == 0 {
		return nil
	}
	o.enqueue(context.WithoutCancel(ctx), ids)
	return nil
}

// enqueue hands committed rows to the sender, starting it if it is idle.
// The request that caused the events may be over; their send is not.
func (o *Outbox) enqueue(ctx context.Context, ids []int64) {
	o.inflight.Add(len(ids)) // one per row: batches merge in the queue
	o.queueMu.Lock()
	o.queue = append(o.queue, ids...)
	start := !o.draining
	o.draining = true
	o.queueMu.Unlock()
	if start {
		go o.drain(ctx)
	}
}

// drain sends whatever has queued up, one batch at a time: rows queued while
// a batch is in flight go out together in the next one.
func (o *Outbox) drain(ctx context.Context) {
	for {
		o.queueMu.Lock()
		ids := o.queue
		o.queue = nil
		if len(ids) == 0 {
			o.draining = false
			o.queueMu.Unlock()
			return
		}
		o.queueMu.Unlock()
		rows, err := o.pool.Query(ctx, `SELECT id, event FROM outbox WHERE id = ANY($1) AND sent_at IS NULL ORDER BY id`, ids)
		if err == nil {
			_, err = o.send(ctx, rows)
		}
		if err != nil {
			o.log.Warn("outbox send failed; the relay will retry", "err", err)
		}
		o.inflight.Add(-len(ids))
	}
}

// Wait blocks until background sends started by Run are done.
func (o *Outbox) Wait() { o.inflight.Wait() }

// Sweep resends events that are still unsent after olderThan (the grace
// period for the sends Run starts itself) and not claimed by a live sender,
// at most limit of them. It is what the relay runs on every PingSource tick.
func (o *Outbox) Sweep(ctx context.Context, olderThan time.Duration, limit int) (Result, error) {
	rows, err := o.pool.Query(ctx, `SELECT id, event FROM outbox
		WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => $1) AND (lease_until IS NULL OR lease_until < now())
		ORDER BY id LIMIT $2`, olderThan.Seconds(), limit)
	if err != nil {
		return Result{}, err
	}
	return o.send(ctx, rows)
}

// Result counts one batch of sends.
type Result struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
}

// send delivers the outbox rows (id, event) that rows yields, in id order.
// A bounded set of workers sends them, so a batch of thousands is not sent
// one by one. Rows with the same partition key go to the same worker, which
// sends them one after another in id order (the order their INSERTs ran).
// That is all the order kept: nothing orders sends across processes (two
// instances of a function, or the relay), and a row whose send fails is left
// for the relay, so it may reach the sink after later events about the same
// user.
func (o *Outbox) send(ctx context.Context, rows pgx.Rows) (Result, error) {
	var res Result
	type row struct {
		id  int64
		key string
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		var raw []byte
		if err := r.Scan(&x.id, &raw); err != nil {
			return x, err
		}
		var attrs struct {
			PartitionKey string `json:"partitionkey"`
		}
		_ = json.Unmarshal(raw, &attrs) // no key: any worker will do
		x.key = attrs.PartitionKey
		return x, nil
	})
	if err != nil {
		return res, err
	}
	shards := make([][]int64, o.workers(len(all)))
	for _, r := range all {
		h := fnv.New32a()
		h.Write([]byte(r.key)) //nolint:errcheck
		i := int(h.Sum32() % uint32(len(shards)))
		shards[i] = append(shards[i], r.id)
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for _, ids := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range ids {
				sent, err := o.sendOne(ctx, id)
				mu.Lock()
				switch {
				case err != nil:
					res.Failed++
					if firstErr == nil {
						firstErr = err
					}
				case sent:
					res.Sent++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return res, firstErr
}

// workers is how many rows of an n-row batch to send at once.
func (o *Outbox) workers(n int) int {
	return max(min(o.SendWorkers, n, int(o.pool.Config().MaxConns)/2), 1)
}

// leaseMargin is how much longer than one send a claim lasts, so a claim
// never runs out while its sender is still waiting for the sink.
const leaseMargin = 10 * time.Second

// sendOne sends one row the way watermill's forwarder does
// (ThreeDotsLabs/watermill, components/forwarder/forwarder.go): no
// transaction is open while the sink is called. It claims the row in one
// statement (not sent, no live claim; counting the attempt), sends it, and
// then marks it sent or records the error, releasing the claim. sent is
// false when the row was sent already or another sender holds it.
func (o *Outbox) sendOne(ctx context.Context, id int64) (sent bool, err error) {
	var raw []byte
	var sink string
	var lease time.Time
	err = o.pool.QueryRow(ctx, `UPDATE outbox SET lease_until = now() + make_interval(secs => $2), attempts = attempts + 1
		WHERE id = $1 AND sent_at IS NULL AND (lease_until IS NULL OR lease_until < now())
		RETURNING event, sink, lease_until`, id, (o.SendTimeout+leaseMargin).Seconds()).Scan(&raw, &sink, &lease)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("outbox claim of row %d: %w", id, err)
	}
	var e event.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return false, fmt.Errorf("outbox row %d: %w", id, err)
	}
	// The send continues the trace the event was written in, wherever it
	// runs (right after commit or in the relay, linked to the relay's tick).
	parent := telemetry.EventContext(&e)
	ctx, span := tracer.Start(telemetry.ContextWithEvent(ctx, &e), "outbox send", append(telemetry.Link(ctx, parent),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(append(eventAttributes(e), attribute.Int64("tidings.outbox.row", id), semconv.URLFull(sink))...))...)
	defer span.End()
	// The claim is ours only while lease_until is what we set: if it ran
	// out and another sender took the row, its bookkeeping wins.
	if sendErr := o.deliver(ctx, sink, e); sendErr != nil {
		telemetry.RecordError(span, sendErr)
		_, err := o.pool.Exec(ctx, `UPDATE outbox SET last_error = $3, lease_until = NULL WHERE id = $1 AND lease_until = $2`, id, lease, sendErr.Error())
		return false, errors.Join(fmt.Errorf("outbox row %d to %s: %w", id, sink, sendErr), err)
	}
	if _, err := o.pool.Exec(ctx, `UPDATE outbox SET sent_at = now(), last_error = NULL, lease_until = NULL WHERE id = $1 AND lease_until = $2`, id, lease); err != nil {
		// Sent, but not marked: the relay sends it again after the claim
		// runs out, and consumers deduplicate.
		return true, fmt.Errorf("outbox row %d sent but not marked: %w", id, err)
	}
	return true, nil
}

var tracer = otel.Tracer("github.com/tidings-dev/tidings/functions/internal/outbox")

// eventAttributes are the CloudEvents semantic conventions for e.
func eventAttributes(e event.Event) []attribute.KeyValue {
	return []attribute.KeyValue{semconv.CloudEventsEventID(e.ID()), semconv.CloudEventsEventSource(e.Source()), semconv.CloudEventsEventType(e.Type())}
}

// deliver POSTs e in binary mode, with the sink's OIDC token if there is
// one, and wants a 2xx back.
func (o *Outbox) deliver(ctx context.Context, sink string, e event.Event) error {
	ctx, cancel := context.WithTimeout(ctx, o.SendTimeout)
	defer cancel()
	token, err := o.Tokens.forSink(sink)
	if err != nil {
		return err
	}
	header := http.Header{}
	if token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	telemetry.InjectHTTP(ctx, header) // the hop: the sink's span is this send's child
	ctx = cehttp.WithCustomHeader(ctx, header)
	result := o.client.Send(cloudevents.ContextWithTarget(ctx, sink), e)
	if cloudevents.IsACK(result) {
		return nil
	}
	var httpResult *cehttp.Result
	if cloudevents.ResultAs(result, &httpResult) {
		return fmt.Errorf("sink answered %d %s", httpResult.StatusCode, http.StatusText(httpResult.StatusCode))
	}
	return result
}
