package consume_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/consume"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

func signedUp(t *testing.T) event.Event {
	e, err := events.New("/tidings/signup", events.TypeUserSignedUp, "u1", "u1",
		events.UserSignedUp{UserID: "u1", Email: "u1@example.com", Name: "U", SignedUpAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Concurrent deliveries of one event (a rebalance, an unordered source)
// apply it once: the second waits on the first's ledger row, then sees it.
func TestConcurrentDuplicatesApplyOnce(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	var applied atomic.Int32
	h := consume.Handler("counter", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(ctx context.Context, tx *outbox.Tx, e event.Event) error {
		applied.Add(1)
		_, err := tx.Exec(ctx, `SELECT pg_sleep(0.05)`) // hold the ledger row a while
		return err
	})
	e := signedUp(t)
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- apptest.Deliver(t, h, e).Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("a delivery answered %d", c)
		}
	}
	if n := applied.Load(); n != 1 {
		t.Fatalf("the effect ran %d times", n)
	}
}

func TestStatusCodesTellTheDispatcherWhatToDo(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	var fail error
	h := consume.Handler("status", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(context.Context, *outbox.Tx, event.Event) error {
		return fail
	})
	fail = errors.New("database hiccup")
	if rec := apptest.Deliver(t, h, signedUp(t)); rec.Code != http.StatusInternalServerError {
		t.Fatalf("retryable failure: %d, want 500", rec.Code)
	}
	fail = consume.Permanent(errors.New("refers to nothing"))
	rec := apptest.Deliver(t, h, signedUp(t))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "refers to nothing") {
		t.Fatalf("permanent failure: %d %s, want 400 with the reason", rec.Code, rec.Body)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events`); n != 0 {
		t.Fatalf("failed events were recorded as processed: %d", n)
	}
	fail = nil
	if rec := apptest.Serve(h, apptest.Request("GET", "/", "")); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", rec.Code)
	}
	big := apptest.Request("POST", "/", `{"specversion":"1.0","id":"x","source":"/s","type":"`+events.TypeUserSignedUp+`","data":"`+strings.Repeat("x", consume.MaxEventBytes)+`"}`)
	big.Header.Set("Content-Type", "application/cloudevents+json")
	if rec := apptest.Serve(h, big); rec.Code != http.StatusBadRequest {
		t.Fatalf("oversized event: %d, want 400", rec.Code)
	}
}
