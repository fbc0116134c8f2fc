package outbox_test

import (
	"context"
	"fmt"
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
	var es []event.Event
	for i := range 200 {
		key := fmt.Sprintf("k%d", i%7)
		e, err := events.New("/test", events.TypeUserSignedUp, fmt.Sprint(i), key, signedUp(t, key))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
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
