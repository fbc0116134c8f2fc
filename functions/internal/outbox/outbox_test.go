package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// signedUp is the payload for a test user named name (its id a UUID made
// from the name).
func signedUp(t *testing.T, name string) events.UserSignedUp {
	id := uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)).String()
	return events.UserSignedUp{UserID: id, Email: name + "@example.com", Name: name, SignedUpAt: time.Now().UTC()}
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

// Events about one user, written by transactions that commit one after
// another in one process, leave in that order, even when they come faster
// than the sink answers.
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

// The sender must not hold a database transaction (and the row's lock)
// while it waits for the sink: the sink checks, while the request is in
// flight, that the row can be locked at once and that no connection of the
// test database sits idle in a transaction.
func TestNoTransactionIsOpenDuringTheSend(t *testing.T) {
	var a *app.App
	var mu sync.Mutex
	var problems []string
	var sent int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := r.Header.Get("Ce-Id")
		var n int // one statement, no transaction of our own: its lock ends with it
		err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT id FROM outbox WHERE event_id = $1 FOR UPDATE NOWAIT) AS locked`, id).Scan(&n)
		var open int
		if e := a.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&open); e != nil {
			err = errors.Join(err, e)
		}
		mu.Lock()
		defer mu.Unlock()
		sent++
		if err != nil {
			problems = append(problems, "row locked during the send: "+err.Error())
		}
		if open != 0 {
			problems = append(problems, fmt.Sprintf("%d transaction(s) open during the send", open))
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	a = apptest.New(t, "outbox-test", app.Needs{}, srv.URL)
	if err := emit(t, a, "a", "b", "c"); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	mu.Lock()
	defer mu.Unlock()
	if sent != 3 || len(problems) > 0 {
		t.Fatalf("%d sends; %q", sent, problems)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND lease_until IS NULL`); n != 3 {
		t.Fatalf("%d rows marked sent and released, want 3", n)
	}
}

// A sender that died mid-send leaves its row claimed; once the claim runs
// out, a sweep sends it. A row whose claim is still running is left alone.
func TestSweepHonoursClaims(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL)
	sink.Down.Store(true)
	if err := emit(t, a, "dead", "busy"); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	sink.Down.Store(false)
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `UPDATE outbox SET lease_until = now() - interval '1 second' WHERE convert_from(event, 'UTF8')::jsonb ->> 'subject' = 'dead'`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Pool.Exec(ctx, `UPDATE outbox SET lease_until = now() + interval '1 hour' WHERE convert_from(event, 'UTF8')::jsonb ->> 'subject' = 'busy'`); err != nil {
		t.Fatal(err)
	}
	res, err := a.Outbox.Sweep(ctx, 0, 100)
	if err != nil || res.Sent != 1 {
		t.Fatalf("sweep: %+v %v, want the expired claim sent and the live one left", res, err)
	}
	if got := sink.Events(); len(got) != 1 || got[0].Subject() != "dead" {
		t.Fatalf("sink got %d events", len(got))
	}
	if n := apptest.Count(t, a.Pool, `SELECT attempts FROM outbox WHERE convert_from(event, 'UTF8')::jsonb ->> 'subject' = 'dead'`); n != 2 {
		t.Fatalf("attempts = %d, want 2 (the failed send and the sweep)", n)
	}
}
