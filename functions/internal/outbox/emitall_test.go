package outbox_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

func TestEmitAllWritesAndSendsEveryEventOnce(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	const n = 2500 // more than one INSERT batch
	var es []event.Event
	for i := range n {
		id := fmt.Sprintf("u%d", i)
		e, err := events.New("/test", events.TypeUserSignedUp, id, id, signedUp(t, id))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	err := a.Outbox.Run(context.Background(), func(tx *outbox.Tx) error { return tx.EmitAll(context.Background(), es) })
	if err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	seen := map[string]int{}
	for _, e := range sink.Events() {
		seen[e.ID()]++
	}
	for _, e := range es {
		if seen[e.ID()] != 1 {
			t.Fatalf("event %s sent %d times", e.ID(), seen[e.ID()])
		}
	}
	if sent := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL`); sent != n {
		t.Fatalf("%d rows marked sent, want %d", sent, n)
	}
}

func TestEmitAllRefusesAnInvalidEvent(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	good, _ := events.New("/test", events.TypeUserSignedUp, "u1", "u1", signedUp(t, "u1"))
	bad := good.Clone()
	bad.SetID("other")
	bad.SetExtension(events.PartitionKeyExtension, nil)
	err := a.Outbox.Run(context.Background(), func(tx *outbox.Tx) error {
		return tx.EmitAll(context.Background(), []event.Event{good, bad})
	})
	if !events.IsInvalid(err) {
		t.Fatalf("want an InvalidError, got %v", err)
	}
	a.Outbox.Wait()
	if len(sink.Events()) != 0 || apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox`) != 0 {
		t.Fatal("a refused batch left events behind")
	}
}

// Parallel sending must not reorder events about one user: they share a
// partition key and go to the sink in the order they were written.
func TestParallelSendsKeepEachKeysOrder(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	es := keyedEvents(t, 200, 7)
	if err := a.Outbox.Run(context.Background(), func(tx *outbox.Tx) error { return tx.EmitAll(context.Background(), es) }); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	got := sink.Events()
	if len(got) != len(es) {
		t.Fatalf("sink got %d, want %d", len(got), len(es))
	}
	last := map[string]int{}
	for _, e := range got {
		key := e.Extensions()[events.PartitionKeyExtension].(string)
		var seq int
		fmt.Sscan(e.Subject(), &seq) //nolint:errcheck
		if prev, ok := last[key]; ok && seq < prev {
			t.Fatalf("key %s: event %d sent after %d", key, seq, prev)
		}
		last[key] = seq
	}
}

// A committed batch is written already claimed and marked sent a chunk at
// a time: no claim statement, one mark per chunk of sends, not two
// statements per event; every event still leaves once and is marked sent.
func TestABatchIsSentWithoutClaimsAndMarkedInChunks(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	pool, statements := apptest.TracedPool(t, a.Pool)
	ob, err := outbox.New(pool, sink.URL, a.Log)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var es []event.Event
	for i := range n {
		key := fmt.Sprintf("k%d", i%40)
		e, err := events.New("/test", events.TypeUserSignedUp, fmt.Sprint(i), key, signedUp(t, key))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	if err := ob.Run(context.Background(), func(tx *outbox.Tx) error { return tx.EmitAll(context.Background(), es) }); err != nil {
		t.Fatal(err)
	}
	ob.Wait()
	if got := len(sink.Events()); got != n {
		t.Fatalf("sink got %d, want %d", got, n)
	}
	if left := apptest.Count(t, pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL OR lease_until IS NOT NULL`); left != 0 {
		t.Fatalf("%d rows not marked sent and released", left)
	}
	updates := statements.Count("UPDATE OUTBOX")
	// 64 workers × 4 rows a chunk: 2 chunks, a mark each.
	if updates > 2 {
		t.Fatalf("%d UPDATEs of the outbox for %d events, want at most 2 (a mark per chunk)", updates, n)
	}
	if once := apptest.Count(t, pool, `SELECT count(*) FROM outbox WHERE attempts = 1`); once != n {
		t.Fatalf("%d of %d rows with one attempt", once, n)
	}
}

// One event of a chunk that the sink refuses is left for the relay with its
// reason; the others of the chunk are marked sent, and a sweep sends the
// refused one, once.
func TestAFailedSendInAChunkLeavesTheOthersSent(t *testing.T) {
	var refuse atomic.Value
	refuse.Store("c")
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subject := r.Header.Get("Ce-Subject")
		if subject == refuse.Load().(string) {
			http.Error(w, "refused", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		seen[subject]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	a := apptest.New(t, "outbox-test", app.Needs{}, srv.URL)
	if err := emit(t, a, "a", "b", "c", "d", "e"); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND lease_until IS NULL AND last_error IS NULL`); n != 4 {
		t.Fatalf("%d rows marked sent, want 4", n)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND lease_until IS NULL AND last_error LIKE '%sink answered 503%'`); n != 1 {
		t.Fatalf("%d rows left unsent with the reason and no claim, want 1", n)
	}
	refuse.Store("")
	res, err := a.Outbox.Sweep(context.Background(), 0, 100)
	if err != nil || res.Sent != 1 {
		t.Fatalf("sweep: %+v %v, want the refused row sent", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		if seen[s] != 1 {
			t.Errorf("event %s reached the sink %d times, want once", s, seen[s])
		}
	}
}

// Parallel sends reuse their connections to the sink: a batch of hundreds
// dials about once per worker, not once per event.
func TestSendsReuseConnectionsToTheSink(t *testing.T) {
	var dials atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	a := apptest.New(t, "outbox-test", app.Needs{}, srv.URL)
	es := keyedEvents(t, 400, 64)
	if err := a.Outbox.Run(context.Background(), func(tx *outbox.Tx) error { return tx.EmitAll(context.Background(), es) }); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); n != 0 {
		t.Fatalf("%d events unsent", n)
	}
	if n := dials.Load(); n > int64(2*a.Outbox.SendWorkers) {
		t.Fatalf("%d connections for %d sends by %d workers, want at most %d", n, len(es), a.Outbox.SendWorkers, 2*a.Outbox.SendWorkers)
	}
}

// keyedEvents makes n signup events with ids 0..n-1 whose partition keys
// cycle through k keys ("k0", "k1", ...).
func keyedEvents(t *testing.T, n, k int) []event.Event {
	t.Helper()
	var es []event.Event
	for i := range n {
		key := fmt.Sprintf("k%d", i%k)
		e, err := events.New("/test", events.TypeUserSignedUp, fmt.Sprint(i), key, signedUp(t, key))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}
