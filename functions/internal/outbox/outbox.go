// Package outbox makes "change the database and emit an event" atomic. An
// event is written to the outbox table in the same transaction as the change
// it announces, sent to the function's sink (a KafkaSink, from K_SINK) after
// commit, and marked sent once the sink accepts it. Whatever is left unsent
// (sink down, process killed) is swept and resent by the relay, so no event
// is lost; consumers deduplicate, so a resend is harmless. A row is written
// claimed by its writer for as long as its send may take (at least
// SendTimeout + 10 s); a writer that died leaves it to the relay once that
// claim ran out.
package outbox

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"slices"
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
	// SendWorkers bounds how many events of one batch are sent at once
	// (and, by rowsPerWorker, how many rows one claim takes). The workers
	// hold no database connection: a chunk's claim and marks are one
	// statement each.
	SendWorkers int
	inflight    sync.WaitGroup

	// Committed rows wait here for the one sender goroutine, which sends them
	// batch after batch in the order Run handed them over after commit.
	queueMu  sync.Mutex
	queue    []*claimed
	draining bool
}

// New returns an outbox sending to sink (the function's K_SINK; empty for a
// function that emits nothing).
func New(pool *pgxpool.Pool, sink string, log *slog.Logger) (*Outbox, error) {
	// 64 sends in flight: a fan-out of 50 friends leaves at once, and the
	// sink's producer carries them to Kafka in a few produce requests.
	const workers = 64
	// sdk-go's client would use http.DefaultTransport, which keeps 2 idle
	// connections per host: all but 2 of the parallel sends would dial the
	// sink anew each time. Keep one per worker.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = workers
	c, err := cloudevents.NewClientHTTP(cehttp.WithRoundTripper(transport))
	if err != nil {
		return nil, err
	}
	return &Outbox{pool: pool, sink: sink, client: c, log: log, SendTimeout: 5 * time.Second, SendWorkers: workers}, nil
}

// ErrNoSink means the function tried to emit without a K_SINK.
var ErrNoSink = errors.New("outbox: no sink configured (K_SINK is empty)")

// Tx is a database transaction that can also emit events.
type Tx struct {
	pgx.Tx
	ob    *Outbox
	rows  []*claimed // written in this transaction, claimed by this process
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
// short transaction. The rows are written already claimed by this process
// (lease_until, attempts 1), as long as their sends may take, so that the
// send after commit needs no claim statement: the relay leaves them alone
// until the claim runs out (outbox.Sweep), and takes them then if the
// process died before sending.
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
	es = slices.Clone(es)
	for i := range es {
		telemetry.InjectEvent(ctx, &es[i])
	}
	var b pgx.Batch
	for _, e := range es {
		if err := events.Validate(e); err != nil {
			return err
		}
		raw, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO outbox (event_source, event_id, event_type, sink, event, lease_until, attempts)
			VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), 1) RETURNING id, lease_until`,
			e.Source(), e.ID(), e.Type(), tx.ob.sink, raw, tx.ob.leaseFor(len(es)).Seconds())
	}
	results := tx.SendBatch(ctx, &b)
	for _, e := range es {
		c := &claimed{sink: tx.ob.sink, event: e.Clone()}
		if err := results.QueryRow().Scan(&c.id, &c.lease); err != nil {
			results.Close()
			return fmt.Errorf("outbox write: %w", err)
		}
		c.key, _ = e.Extensions()[events.PartitionKeyExtension].(string)
		tx.rows = append(tx.rows, c)
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
	return o.RunGroup(ctx, []Work{{Ctx: ctx, Fn: func(_ context.Context, tx *Tx) error { return fn(tx) }}})[0]
}

// Work is one unit of a group transaction: what it does, and its context
// (values for its statements, AfterCommit functions and sends; Fn's ctx is
// Ctx, cancelled also when the group's context ends).
type Work struct {
	Ctx context.Context
	Fn  func(ctx context.Context, tx *Tx) error
}

// call runs w on tx with w.Ctx, cut short when the group's ctx ends.
func (w Work) call(ctx context.Context, tx *Tx) error {
	uctx, cancel := context.WithCancel(w.Ctx)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	return w.Fn(uctx, tx)
}

// RunGroup runs every unit of work in one transaction, so they share one
// commit (one WAL flush) instead of paying one each: a group commit. Each
// unit runs in its own savepoint, in order: a unit that fails is rolled
// back alone and its error is returned in its slot, and the others go on.
// When the transaction fails as a whole (begin, a savepoint, the commit),
// every unit that had not failed on its own gets that error, as plain text
// so that no unit is taken for the cause, and nothing of any unit happened. After the commit, the
// AfterCommit functions of the units that succeeded run, unit by unit, and
// their events are sent in that order. One unit runs with no savepoint: a
// plain transaction.
func (o *Outbox) RunGroup(ctx context.Context, work []Work) []error {
	errs := make([]error, len(work))
	done := make([]*Tx, len(work))
	err := pgx.BeginFunc(ctx, o.pool, func(ptx pgx.Tx) error {
		if len(work) == 1 {
			tx := &Tx{Tx: ptx, ob: o}
			if err := work[0].call(ctx, tx); err != nil {
				return err
			}
			done[0] = tx
			return nil
		}
		for i, w := range work {
			sp, err := ptx.Begin(ctx) // SAVEPOINT
			if err != nil {
				return err
			}
			tx := &Tx{Tx: sp, ob: o}
			if err := w.call(ctx, tx); err != nil {
				errs[i] = err
				if err := sp.Rollback(ctx); err != nil { // ROLLBACK TO SAVEPOINT
					return err
				}
				continue
			}
			// The savepoint is left open rather than released: the next
			// one nests in it, and the commit ends them all. That saves a
			// round trip per unit; groups stay far below Postgres's 64
			// cached subtransactions (consume.GroupCommit caps them).
			done[i] = tx
		}
		return nil
	})
	if err != nil {
		if len(work) > 1 {
			// The group's failure, not any one unit's: it must read as
			// worth retrying (a unit's retry runs in another group), never
			// as one unit's bad data.
			err = fmt.Errorf("group transaction of %d failed: %s", len(work), err.Error())
		}
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	var rows []*claimed
	for i, tx := range done {
		if tx == nil {
			continue
		}
		for _, f := range tx.after {
			f(work[i].Ctx)
		}
		rows = append(rows, tx.rows...)
	}
	if len(rows) > 0 {
		o.enqueue(context.WithoutCancel(ctx), rows)
	}
	return errs
}

// enqueue hands committed rows to the sender, starting it if it is idle.
// The request that caused the events may be over; their send is not.
func (o *Outbox) enqueue(ctx context.Context, rows []*claimed) {
	o.inflight.Add(len(rows)) // one per row: batches merge in the queue
	o.queueMu.Lock()
	o.queue = append(o.queue, rows...)
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
		rows := o.queue
		o.queue = nil
		if len(rows) == 0 {
			o.draining = false
			o.queueMu.Unlock()
			return
		}
		o.queueMu.Unlock()
		var errs []error
		for chunk := range slices.Chunk(rows, o.workers(len(rows))*rowsPerWorker) {
			if _, err := o.sendClaimed(ctx, chunk); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			o.log.Warn("outbox send failed; the relay will retry", "err", err)
		}
		o.inflight.Add(-len(rows))
	}
}

// Wait blocks until background sends started by Run are done.
func (o *Outbox) Wait() { o.inflight.Wait() }

// Sweep resends events that are still unsent after olderThan (the grace
// period for the sends Run starts itself) and not claimed by a live sender,
// at most limit of them. It is what the relay runs on every PingSource tick.
func (o *Outbox) Sweep(ctx context.Context, olderThan time.Duration, limit int) (Result, error) {
	rows, err := o.pool.Query(ctx, `SELECT id FROM outbox
		WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => $1) AND (lease_until IS NULL OR lease_until < now())
		ORDER BY id LIMIT $2`, olderThan.Seconds(), limit)
	if err != nil {
		return Result{}, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return Result{}, err
	}
	return o.send(ctx, ids)
}

// Result counts one batch of sends.
type Result struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
}

// rowsPerWorker is how many rows of a chunk each send worker gets on
// average: a chunk is claimed (unless its rows were written claimed) and
// marked with one statement each, so one or two commits serve workers ×
// rowsPerWorker sends instead of two per send.
const rowsPerWorker = 4

// send delivers the outbox rows ids, in id order, a chunk at a time: it
// claims the chunk's unsent, unclaimed rows in one statement, sends them
// (no transaction is open meanwhile, as in watermill's forwarder:
// ThreeDotsLabs/watermill components/forwarder/forwarder.go), and then marks
// the sent ones and records the errors of the others, releasing the claim,
// in one statement each. A bounded set of workers sends a chunk; rows with
// the same partition key go to the same worker, which sends them one after
// another in id order (the order their INSERTs ran), and a chunk is done
// before the next is claimed. That is all the order kept: nothing orders
// sends across processes (two instances of a function, or the relay), and a
// row whose send fails is left for the relay, so it may reach the sink after
// later events about the same user.
func (o *Outbox) send(ctx context.Context, ids []int64) (Result, error) {
	var res Result
	var errs []error
	size := o.workers(len(ids)) * rowsPerWorker
	for len(ids) > 0 {
		n := min(size, len(ids))
		r, err := o.sendChunk(ctx, ids[:n])
		res.Sent += r.Sent
		res.Failed += r.Failed
		if err != nil {
			errs = append(errs, err)
		}
		ids = ids[n:]
	}
	return res, errors.Join(errs...)
}

// claimed is one outbox row this sender holds until its lease ends.
type claimed struct {
	id    int64
	key   string
	sink  string
	event event.Event
	lease time.Time // lease_until as this sender set it
	err   error     // the send's, once tried
}

// leaseFor is how long a claim on n rows lasts: as long as the longest a
// worker may take, each of its rows using a whole SendTimeout. A worker
// whose claim would run out mid-send leaves its remaining rows to the
// relay (sendShard).
func (o *Outbox) leaseFor(n int) time.Duration {
	workers := o.workers(n)
	return time.Duration((n+workers-1)/workers)*o.SendTimeout + leaseMargin
}

func (o *Outbox) sendChunk(ctx context.Context, ids []int64) (Result, error) {
	rows, err := o.pool.Query(ctx, `UPDATE outbox SET lease_until = now() + make_interval(secs => $2), attempts = attempts + 1
		WHERE id = ANY($1) AND sent_at IS NULL AND (lease_until IS NULL OR lease_until < now())
		RETURNING id, event, sink, lease_until`, ids, o.leaseFor(len(ids)).Seconds())
	if err != nil {
		return Result{}, fmt.Errorf("outbox claim of %d rows: %w", len(ids), err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*claimed, error) {
		c := &claimed{}
		var raw []byte
		if err := r.Scan(&c.id, &raw, &c.sink, &c.lease); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &c.event); err != nil {
			c.err = fmt.Errorf("outbox row %d: %w", c.id, err)
		}
		c.key, _ = c.event.Extensions()[events.PartitionKeyExtension].(string) // no key: any worker will do
		return c, nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("outbox claim of %d rows: %w", len(ids), err)
	}
	return o.sendClaimed(ctx, all)
}

// sendClaimed sends rows this sender holds, in id order per partition key,
// and settles them.
func (o *Outbox) sendClaimed(ctx context.Context, all []*claimed) (Result, error) {
	if len(all) == 0 {
		return Result{}, nil // sent already, or another sender holds them
	}
	all = slices.Clone(all)
	slices.SortFunc(all, func(a, b *claimed) int { return cmp.Compare(a.id, b.id) })
	shards := make([][]*claimed, o.workers(len(all)))
	for _, c := range all {
		h := fnv.New32a()
		h.Write([]byte(c.key)) //nolint:errcheck
		i := int(h.Sum32() % uint32(len(shards)))
		shards[i] = append(shards[i], c)
	}
	var wg sync.WaitGroup
	for _, shard := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.sendShard(ctx, shard)
		}()
	}
	wg.Wait()
	return o.settle(ctx, all)
}

// sendShard sends one worker's rows in order. It stops when its claim
// would run out before another send could time out: the rows left keep
// their error and go to the relay.
func (o *Outbox) sendShard(ctx context.Context, shard []*claimed) {
	for _, c := range shard {
		switch {
		case c.err != nil:
		case time.Until(c.lease) < o.SendTimeout:
			c.err = fmt.Errorf("outbox row %d: its claim ran out before it could be sent", c.id)
		default:
			if err := o.tracedDeliver(ctx, c); err != nil {
				c.err = fmt.Errorf("outbox row %d to %s: %w", c.id, c.sink, err)
			}
		}
	}
}

// settle marks the chunk's sent rows and records the others' errors, in one
// statement each, releasing the claim. The claim is ours only while
// lease_until is what we set: if it ran out and another sender took a row,
// its bookkeeping wins.
func (o *Outbox) settle(ctx context.Context, all []*claimed) (Result, error) {
	var res Result
	var sent, failed []int64
	var sentLeases, failedLeases []time.Time
	var reasons []string
	var errs []error
	for _, c := range all {
		if c.err == nil {
			sent = append(sent, c.id)
			sentLeases = append(sentLeases, c.lease)
			continue
		}
		if len(failed) == 0 {
			errs = append(errs, c.err)
		}
		failed = append(failed, c.id)
		failedLeases = append(failedLeases, c.lease)
		reasons = append(reasons, c.err.Error())
	}
	if len(failed) > 1 {
		errs = append(errs, fmt.Errorf("and %d more of this chunk's %d sends failed", len(failed)-1, len(all)))
	}
	res.Sent, res.Failed = len(sent), len(failed)
	if len(sent) > 0 {
		if _, err := o.pool.Exec(ctx, `UPDATE outbox SET sent_at = now(), last_error = NULL, lease_until = NULL
			FROM unnest($1::bigint[], $2::timestamptz[]) AS s(id, lease) WHERE outbox.id = s.id AND outbox.lease_until = s.lease`, sent, sentLeases); err != nil {
			// Sent, but not marked: the relay sends them again after the
			// claim runs out, and consumers deduplicate.
			errs = append(errs, fmt.Errorf("outbox: %d rows sent but not marked: %w", len(sent), err))
		}
	}
	if len(failed) > 0 {
		if _, err := o.pool.Exec(ctx, `UPDATE outbox SET last_error = f.reason, lease_until = NULL
			FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS f(id, reason, lease) WHERE outbox.id = f.id AND outbox.lease_until = f.lease`, failed, reasons, failedLeases); err != nil {
			errs = append(errs, fmt.Errorf("outbox: recording %d failed sends: %w", len(failed), err))
		}
	}
	return res, errors.Join(errs...)
}

// workers is how many rows of an n-row batch to send at once.
func (o *Outbox) workers(n int) int {
	return max(min(o.SendWorkers, n), 1)
}

// leaseMargin is how much longer than its sends a claim lasts, so a claim
// never runs out while its sender is still waiting for the sink.
const leaseMargin = 10 * time.Second

var tracer = otel.Tracer("github.com/tidings-dev/tidings/functions/internal/outbox")

// eventAttributes are the CloudEvents semantic conventions for e.
func eventAttributes(e event.Event) []attribute.KeyValue {
	return []attribute.KeyValue{semconv.CloudEventsEventID(e.ID()), semconv.CloudEventsEventSource(e.Source()), semconv.CloudEventsEventType(e.Type())}
}

// tracedDeliver is deliver in a span that continues the trace the event was
// written in, wherever the send runs (right after commit or in the relay,
// linked to the relay's tick).
func (o *Outbox) tracedDeliver(ctx context.Context, c *claimed) error {
	parent := telemetry.EventContext(&c.event)
	ctx, span := tracer.Start(telemetry.ContextWithEvent(ctx, &c.event), "outbox send", append(telemetry.Link(ctx, parent),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(append(eventAttributes(c.event), attribute.Int64("tidings.outbox.row", c.id), semconv.URLFull(c.sink))...))...)
	defer span.End()
	err := o.deliver(ctx, c.sink, c.event)
	telemetry.RecordError(span, err)
	return err
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
