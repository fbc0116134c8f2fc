package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

func signedUp(t *testing.T, id string) events.UserSignedUp {
	return events.UserSignedUp{UserID: id, Email: id + "@example.com", Name: id, SignedUpAt: time.Now().UTC()}
}

func emit(t *testing.T, a *app.App, ids ...string) error {
	return a.Outbox.Run(context.Background(), func(tx *outbox.Tx) error {
		for _, id := range ids {
			e, err := events.New("/test", events.TypeUserSignedUp, id, id, signedUp(t, id))
			if err != nil {
				return err
			}
			if err := tx.Emit(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestCommittedEventsAreSentAndMarked(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	if err := emit(t, a, "u1", "u2", "u3"); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	if n := len(sink.Events()); n != 3 {
		t.Fatalf("sink got %d events, want 3", n)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL`); n != 3 {
		t.Fatalf("%d rows marked sent, want 3", n)
	}
}

func TestRolledBackTransactionEmitsNothing(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	boom := errors.New("boom")
	err := a.Outbox.Run(context.Background(), func(tx *outbox.Tx) error {
		e, _ := events.New("/test", events.TypeUserSignedUp, "u1", "u1", signedUp(t, "u1"))
		if err := tx.Emit(context.Background(), e); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run returned %v", err)
	}
	a.Outbox.Wait()
	if len(sink.Events()) != 0 || apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox`) != 0 {
		t.Fatal("a rolled-back transaction left an event")
	}
}

func TestInvalidEventIsRefusedAtEmit(t *testing.T) {
	a := apptest.New(t, "outbox-test", app.Needs{}, "http://127.0.0.1:1/")
	err := a.Outbox.Run(context.Background(), func(tx *outbox.Tx) error {
		e, _ := events.New("/test", events.TypeUserSignedUp, "u1", "u1", signedUp(t, "u1"))
		e.SetExtension(events.PartitionKeyExtension, nil)
		return tx.Emit(context.Background(), e)
	})
	if !events.IsInvalid(err) {
		t.Fatalf("want an InvalidError, got %v", err)
	}
}

func TestNoSinkIsAnError(t *testing.T) {
	a := apptest.New(t, "outbox-test", app.Needs{}, "")
	if err := emit(t, a, "u1"); !errors.Is(err, outbox.ErrNoSink) {
		t.Fatalf("want ErrNoSink, got %v", err)
	}
}

func TestConcurrentSweepsSendEachEventOnce(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	sink.Down.Store(true)
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	if err := emit(t, a, ids...); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	if len(sink.Events()) != 0 {
		t.Fatal("the sink was down but accepted events")
	}
	sink.Down.Store(false)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Outbox.Sweep(context.Background(), 0, 100) //nolint:errcheck
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, e := range sink.Events() {
		seen[e.ID()]++
	}
	if len(seen) != len(ids) {
		t.Fatalf("sent %d distinct events, want %d", len(seen), len(ids))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s sent %d times", id, n)
		}
	}
}

func TestSweepLeavesYoungRowsToTheirProducer(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	sink.Down.Store(true)
	if err := emit(t, a, "young"); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	sink.Down.Store(false)
	res, err := a.Outbox.Sweep(context.Background(), time.Hour, 100)
	if err != nil || res.Sent != 0 {
		t.Fatalf("a sweep with a 1h grace sent %+v (%v)", res, err)
	}
}

func TestAfterCommitRunsOnlyForACommittedTransaction(t *testing.T) {
	a := apptest.New(t, "outbox-test", app.Needs{}, "")
	var ran []string
	ctx := context.Background()
	err := a.Outbox.Run(ctx, func(tx *outbox.Tx) error {
		tx.AfterCommit(func(context.Context) {
			// By now the change is visible outside the transaction.
			ran = append(ran, fmt.Sprintf("committed:%d", apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events`)))
		})
		_, err := tx.Exec(ctx, `INSERT INTO processed_events (consumer, event_source, event_id) VALUES ('t', 's', '1')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = a.Outbox.Run(ctx, func(tx *outbox.Tx) error {
		tx.AfterCommit(func(context.Context) { ran = append(ran, "rolled back") })
		return errors.New("boom")
	})
	if len(ran) != 1 || ran[0] != "committed:1" {
		t.Fatalf("after-commit calls: %q", ran)
	}
}

// Events about one user leave in the order their transactions committed,
// even when each is its own transaction and they come faster than the sink
// answers.
func TestOneKeysEventsLeaveInCommitOrderAcrossTransactions(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	var want []string
	for i := 0; i < 40; i++ {
		err := a.Outbox.Run(context.Background(), func(tx *outbox.Tx) error {
			e, err := events.New("/test", events.TypeUserSignedUp, fmt.Sprint(i), "same-user", signedUp(t, "u"))
			if err != nil {
				return err
			}
			want = append(want, e.ID())
			return tx.Emit(context.Background(), e)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	a.Outbox.Wait()
	got := sink.Events()
	if len(got) != len(want) {
		t.Fatalf("sink got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID() != want[i] {
			t.Fatalf("event %d left out of order (subject %s)", i, got[i].Subject())
		}
	}
}
